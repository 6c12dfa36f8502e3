package main

import (
	"context"
	"fmt"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/playlist"
	"github.com/uprinfo/presession/programme"
	"github.com/uprinfo/presession/storage"
)

// openStore returns the configured storage: S3 when S3_ENDPOINT is set,
// else the directory under the data dir.
func openStore(ctx context.Context, cfg config.Config) (storage.Store, error) {
	if cfg.EmbeddedStorage() {
		return storage.NewDir(cfg.StorageDir())
	}
	s, err := storage.NewS3(ctx, storage.Config{Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, Bucket: cfg.S3.Bucket,
		AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey.Reveal(), UseSSL: cfg.S3.UseSSL,
		PublicEndpoint: cfg.S3.PublicEndpoint})
	if err != nil {
		return nil, fmt.Errorf("S3_ENDPOINT: cannot use bucket %q at %s: %w", cfg.S3.Bucket, cfg.S3.Endpoint, err)
	}
	return s, nil
}

// uploadStatements gives the upload endpoint the catalog, with the
// statements of an invitation, which it limits invitations by.
type uploadStatements struct{ *catalog.Catalog }

func (u uploadStatements) ByInvitation(ctx context.Context, invitationID string) ([]*presession.Statement, error) {
	all, _, err := u.List(ctx, presession.Filter{InvitationID: invitationID})
	return all, err
}

// premiereOnAir tells the staff's programme page what a country's
// premiere shows, from the playlist handler's live status.
type premiereOnAir struct{ *playlist.Handler }

func (o premiereOnAir) OnAir(ctx context.Context, session, country string) (programme.Playing, error) {
	st, err := o.Live(ctx, session, country)
	if err != nil {
		return programme.Playing{}, err
	}
	p := programme.Playing{State: st.State, Of: len(st.Statements)}
	if st.Current != nil && *st.Current < len(st.Statements) {
		it := st.Statements[*st.Current]
		p.Index, p.Title, p.Organisation = *st.Current+1, it.Title, it.Organisation
	}
	return p, nil
}
