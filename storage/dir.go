package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Dir is a Store on a local directory. It is safe for concurrent use, also
// by several processes sharing the directory.
type Dir struct {
	root string
}

// NewDir returns a Dir rooted at root, creating the directory if missing.
func NewDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("storage: dir: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("storage: dir %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("storage: dir: %w", err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("storage: dir: %w", err)
	}
	return &Dir{root: abs}, nil
}

// Root returns the absolute root directory.
func (d *Dir) Root() string { return d.root }

// Path returns the absolute path of the file that holds key (which may not
// exist), or an error matching ErrInvalidKey.
func (d *Dir) Path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// dirMeta is the sidecar ".NAME.meta" of an object whose metadata cannot
// be inferred from its key.
type dirMeta struct {
	ContentType  string `json:"content_type,omitempty"`
	CacheControl string `json:"cache_control,omitempty"`
}

func metaPath(p string) string {
	return filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".meta")
}

// Put implements Store. The data goes to a hidden temporary file in the
// key's directory, is fsynced, and renamed over the key.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, size int64, o PutOptions) (err error) {
	p, err := d.Path(key)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("storage: put %s: %w", key, err)
		}
	}()
	var meta []byte
	if ct := contentType(key, o); ct != ContentTypeOf(key) || o.CacheControl != "" {
		meta, _ = json.Marshal(dirMeta{ContentType: ct, CacheControl: o.CacheControl})
	}
	dir := filepath.Dir(p)
	if size >= 0 {
		r = io.LimitReader(r, size+1) // enough to notice a longer reader
	}
	tmp, err := d.writeTemp(ctx, dir, r)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if size >= 0 {
		fi, err := os.Stat(tmp)
		if err != nil {
			return err
		}
		if fi.Size() != size {
			return fmt.Errorf("read %d bytes, expected %d", fi.Size(), size)
		}
	}
	var tmpMeta string
	if meta != nil {
		if tmpMeta, err = d.writeTemp(ctx, dir, strings.NewReader(string(meta))); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				os.Remove(tmpMeta)
			}
		}()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	if meta != nil {
		err = os.Rename(tmpMeta, metaPath(p))
	} else if rerr := os.Remove(metaPath(p)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = rerr
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// writeTemp copies r into a new fsynced hidden file in dir (created if
// missing) and returns its path.
func (d *Dir) writeTemp(ctx context.Context, dir string, r io.Reader) (name string, err error) {
	var f *os.File
	for attempt := 0; ; attempt++ {
		f, err = os.CreateTemp(dir, ".tmp-*")
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 3 {
			break
		}
		// Missing, or pruned by a concurrent Delete between MkdirAll and
		// CreateTemp: (re)create and retry.
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
	}
	if err != nil {
		return "", err
	}
	name = f.Name()
	_, err = io.Copy(f, ctxReader{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// PutFile implements Store by copying the file.
func (d *Dir) PutFile(ctx context.Context, key, path string, o PutOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("storage: put %s: %w", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("storage: put %s: %w", key, err)
	}
	return d.Put(ctx, key, f, fi.Size(), o)
}

// Get implements Store.
func (d *Dir) Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, ObjectInfo, error) {
	f, info, err := d.open("get", key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	if rng == nil {
		return f, info, nil
	}
	off, n, err := rng.Resolve(info.Size)
	if err != nil {
		f.Close()
		return nil, ObjectInfo{}, fmt.Errorf("storage: get %s: %w", key, err)
	}
	return sectionReadCloser{io.NewSectionReader(f, off, n), f}, info, nil
}

// Open implements Store: the object's file itself.
func (d *Dir) Open(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error) {
	f, info, err := d.open("open", key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	return f, info, nil
}

// open opens the file of key, which must be a regular file, and describes
// the object.
func (d *Dir) open(op, key string) (*os.File, ObjectInfo, error) {
	p, err := d.Path(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, ObjectInfo{}, fileError(op, key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	var info ObjectInfo
	if err == nil {
		info, err = d.info(key, p, fi)
	}
	if err != nil {
		f.Close()
		return nil, ObjectInfo{}, fileError(op, key, err)
	}
	return f, info, nil
}

type sectionReadCloser struct {
	*io.SectionReader
	io.Closer
}

// Stat implements Store.
func (d *Dir) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	p, err := d.Path(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	fi, err := os.Stat(p)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	var info ObjectInfo
	if err == nil {
		info, err = d.info(key, p, fi)
	}
	if err != nil {
		return ObjectInfo{}, fileError("stat", key, err)
	}
	return info, nil
}

func (d *Dir) info(key, p string, fi fs.FileInfo) (ObjectInfo, error) {
	info := listInfo(key, fi)
	info.ContentType = ContentTypeOf(key)
	b, err := os.ReadFile(metaPath(p))
	if errors.Is(err, fs.ErrNotExist) {
		return info, nil
	}
	if err != nil {
		return ObjectInfo{}, err
	}
	var m dirMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return ObjectInfo{}, fmt.Errorf("metadata %s: %w", metaPath(p), err)
	}
	if m.ContentType != "" {
		info.ContentType = m.ContentType
	}
	info.CacheControl = m.CacheControl
	return info, nil
}

func listInfo(key string, fi fs.FileInfo) ObjectInfo {
	return ObjectInfo{
		Key:     key,
		Size:    fi.Size(),
		ETag:    fmt.Sprintf("%x-%x", fi.ModTime().UnixNano(), fi.Size()),
		ModTime: fi.ModTime(),
	}
}

// List implements Store. It never returns hidden names (temporary files,
// metadata sidecars).
func (d *Dir) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	base := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
	}
	start := filepath.Join(d.root, filepath.FromSlash(base))
	var out []ObjectInfo
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == start && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return fs.SkipAll
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == start {
			return nil
		}
		if strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, listInfo(key, fi))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: list %q: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete implements Store. Directories left empty are removed.
func (d *Dir) Delete(ctx context.Context, key string) error {
	p, err := d.Path(key)
	if err != nil {
		return err
	}
	if err := d.remove(p); err != nil {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	d.prune(filepath.Dir(p))
	return nil
}

func (d *Dir) remove(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return err
	}
	if fi.IsDir() {
		return nil // a key prefix, not an object
	}
	if err := os.Remove(metaPath(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// prune removes dir and its parents up to the root while they are empty.
func (d *Dir) prune(dir string) {
	for dir != d.root && strings.HasPrefix(dir, d.root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// DeletePrefix implements Store.
func (d *Dir) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: DeletePrefix needs a non-empty prefix", ErrInvalidKey)
	}
	objs, err := d.List(ctx, prefix)
	if err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := filepath.Join(d.root, filepath.FromSlash(o.Key))
		if err := d.remove(p); err != nil {
			return fmt.Errorf("storage: delete prefix %q: %w", prefix, err)
		}
		dirs[filepath.Dir(p)] = true
	}
	// Deepest first, so parents are empty when their turn comes.
	sorted := make([]string, 0, len(dirs))
	for dir := range dirs {
		sorted = append(sorted, dir)
	}
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, dir := range sorted {
		d.prune(dir)
	}
	return nil
}

// URL implements Store: the object's absolute file path.
func (d *Dir) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if _, err := d.Stat(ctx, key); err != nil {
		return "", err
	}
	return d.Path(key)
}

// PublicURL implements Store: a directory has no URL for browsers, so it
// returns "" (for a valid key), and the app serves the object with Open.
func (d *Dir) PublicURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return "", nil
}

// Ping implements Store: the root must exist and take a new file.
func (d *Dir) Ping(ctx context.Context) error {
	f, err := os.CreateTemp(d.root, ".ping-*")
	if err != nil {
		return fmt.Errorf("storage: dir %s not writable: %w", d.root, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// fileError translates an error of reading the file of key: a file that is
// missing (or a directory, or under a file) is ENOTFOUND.
func fileError(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return notFound(op, key, err)
	}
	return fmt.Errorf("storage: %s %s: %w", op, key, err)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
