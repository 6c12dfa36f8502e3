package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
	"github.com/uprinfo/presession/webhook"
)

const staffToken = "staff-token-for-tests-0123456789abcdef"

func (e *env) api() *httptest.Server {
	e.t.Helper()
	bundle, err := i18n.Load()
	if err != nil {
		e.t.Fatal(err)
	}
	site, err := web.NewSite(presession.Builtin(), bundle, &web.Auth{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), StaffToken: staffToken}, e.log)
	if err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&webhook.API{Site: site, Registry: e.reg, Guard: &webhook.Guard{Resolver: fakeResolver{
		"hooks.example.org": addrs("203.0.113.7"),
		"intranet.example":  addrs("10.0.0.7"),
	}}}).Register(mux)
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, tok, lang string, body any, out any) (int, web.ErrorBody) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var eb web.ErrorBody
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(data, &eb); err != nil || eb.Error.Message == "" {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
		}
	} else if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v %s", method, path, err, data)
		}
	}
	return res.StatusCode, eb
}

func TestAPI(t *testing.T) {
	e := newEnv(t)
	srv := e.api()
	ctx := context.Background()

	if st, _ := call(t, srv, "GET", "/api/v1/webhooks", "", "", nil, nil); st != 401 {
		t.Errorf("without the staff token: %d", st)
	}
	if st, _ := call(t, srv, "POST", "/api/v1/webhooks", "wrong-token-0123456789", "", map[string]any{"url": "https://hooks.example.org/"}, nil); st != 401 {
		t.Errorf("with a wrong token: %d", st)
	}
	// Refusals, in the request's language.
	for _, tc := range []struct {
		body any
		lang string
		want string
	}{
		{map[string]any{"url": "https://hooks.example.org/in"}, "en", "Choose at least one event"},
		{map[string]any{"url": "https://hooks.example.org/in", "events": []string{"statement.lost"}}, "es", `No existe el evento "statement.lost"`},
		{map[string]any{"url": "ftp://hooks.example.org/in", "events": []string{"statement.ready"}}, "fr", "doit commencer par https:// ou http://, pas ftp://"},
		{map[string]any{"url": "https://intranet.example/in", "events": []string{"statement.ready"}}, "fr", "intranet.example pointe vers 10.0.0.7, une adresse privée"},
		{map[string]any{"url": "http://127.0.0.1:8080/", "events": []string{"statement.ready"}}, "es", "127.0.0.1 es una dirección de bucle local"},
		{map[string]any{"url": "http://169.254.169.254/", "events": []string{"statement.ready"}}, "en", "169.254.169.254 is a link-local address, which webhooks may not reach"},
		{map[string]any{"url": "https://hooks.example.org/", "events": []string{"statement.ready"}, "secret": "mine"}, "en", "not the expected JSON"},
	} {
		st, eb := call(t, srv, "POST", "/api/v1/webhooks", staffToken, tc.lang, tc.body, nil)
		if st != 400 || eb.Error.Code != presession.EINVALID || !strings.Contains(eb.Error.Message, tc.want) {
			t.Errorf("%v (%s): %d %+v; want %q", tc.body, tc.lang, st, eb, tc.want)
		}
	}
	list := func() []presession.Webhook {
		var lr webhook.ListResponse
		if st, _ := call(t, srv, "GET", "/api/v1/webhooks", staffToken, "", nil, &lr); st != 200 {
			t.Fatalf("list: %d", st)
		}
		return lr.Webhooks
	}
	if l := list(); len(l) != 0 {
		t.Fatalf("list before any: %+v", l)
	}

	var created presession.Webhook
	st, _ := call(t, srv, "POST", "/api/v1/webhooks", staffToken, "", map[string]any{"url": " https://hooks.example.org/in ",
		"events": []string{"statement.rejected", "statement.approved", "statement.approved"}}, &created)
	if st != 201 || !strings.HasPrefix(created.ID, "wh_") || created.URL != "https://hooks.example.org/in" ||
		!strings.HasPrefix(created.Secret, "whsec_") || created.CreatedBy != presession.ActorService || created.CreatedAt.IsZero() || created.Disabled ||
		len(created.Events) != 2 || created.Events[0] != presession.StatementApproved || created.Events[1] != presession.StatementRejected {
		t.Fatalf("create: %d %+v", st, created)
	}
	if err := e.reg.Record(ctx, created.ID, presession.WebhookDelivery{Occurrence: "stmt_x_3", Type: presession.StatementApproved,
		Attempt: 1, Status: 503, Response: "busy", Outcome: presession.OutcomeRetrying}); err != nil {
		t.Fatal(err)
	}
	l := list()
	if len(l) != 1 || l[0].ID != created.ID || l[0].Secret != "" || len(l[0].Deliveries) != 1 || l[0].Deliveries[0].Status != 503 {
		t.Fatalf("list: %+v", l)
	}
	// More than KeptDeliveries: the newest 20 are kept.
	for i := 0; i < webhook.KeptDeliveries+5; i++ {
		e.reg.Record(ctx, created.ID, presession.WebhookDelivery{Occurrence: "o", Attempt: i + 2, Outcome: presession.OutcomeRetrying})
	}
	if ds := list()[0].Deliveries; len(ds) != webhook.KeptDeliveries || ds[0].Attempt != webhook.KeptDeliveries+6 {
		t.Errorf("kept %d deliveries, newest attempt %d", len(ds), ds[0].Attempt)
	}

	// The stored copy brings it back into an empty Redis.
	fresh := webhook.NewRegistry(e.rdb, e.store, "fresh:")
	if n, err := fresh.Restore(ctx); err != nil || n != 1 {
		t.Fatalf("restore: %d %v", n, err)
	}
	if w, err := fresh.Get(ctx, created.ID); err != nil || w.Secret != created.Secret || w.URL != created.URL {
		t.Fatalf("restored %+v %v", w, err)
	}

	if st, _ := call(t, srv, "DELETE", "/api/v1/webhooks/"+created.ID, staffToken, "", nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st, eb := call(t, srv, "DELETE", "/api/v1/webhooks/"+created.ID, staffToken, "fr", nil, nil); st != 404 || !strings.Contains(eb.Error.Message, "Il n'y a pas de webhook") {
		t.Errorf("delete again: %d %+v", st, eb)
	}
	if l := list(); len(l) != 0 {
		t.Errorf("list after delete: %+v", l)
	}
	gone := webhook.NewRegistry(e.rdb, e.store, "gone:")
	if n, err := gone.Restore(ctx); err != nil || n != 0 {
		t.Errorf("restore after delete: %d %v", n, err)
	}
}
