package npm

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// packument is the registry's document about one package (the abbreviated
// "install" form carries all that is used here).
type packument struct {
	Name     string            `json:"name"`
	DistTags map[string]string `json:"dist-tags"`
	Versions map[string]struct {
		Dependencies map[string]string `json:"dependencies"`
		Dist         struct {
			Tarball   string `json:"tarball"`
			Integrity string `json:"integrity"`
		} `json:"dist"`
	} `json:"versions"`
}

// resolve picks the version spec names: a dist-tag, an exact version or
// the highest release in a range.
func (p *packument) resolve(spec string) (string, bool) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = "latest"
	}
	if v, ok := p.DistTags[spec]; ok {
		_, exists := p.Versions[v]
		return v, exists
	}
	if _, ok := p.Versions[spec]; ok {
		return spec, true
	}
	found := maxSatisfying(maps.Keys(p.Versions), spec)
	return found, found != ""
}

// maxSatisfying is the highest of versions in the npm range spec, or ""
// (npm's semver.maxSatisfying; an invalid range matches nothing).
func maxSatisfying(versions iter.Seq[string], spec string) string {
	r, err := parseRange(spec)
	if err != nil {
		return ""
	}
	best, found := version{}, ""
	for v := range versions {
		pv, err := parseVersion(v)
		if err != nil || !r.matches(pv) {
			continue
		}
		if found == "" || pv.compare(best) > 0 {
			best, found = pv, v
		}
	}
	return found
}

// sample lists a few versions for an error message.
func (p *packument) sample() string {
	var vs []string
	for v := range p.Versions {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	if len(vs) > 8 {
		vs = append(vs[len(vs)-8:], "…")
	}
	return strings.Join(vs, ", ")
}

// registry speaks the npm registry protocol over HTTP.
type registry struct {
	opts Options
}

// packument fetches name's document; nil without error when the registry
// says the package does not exist.
func (r *registry) packument(ctx context.Context, name string) (*packument, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("npm: %w", err)
	}
	u := r.opts.Registry + "/" + strings.Replace(url.PathEscape(name), "%40", "@", 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("npm: %w", err)
	}
	req.Header.Set("Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8")
	resp, err := r.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("npm: registry %s unreachable: %w", r.opts.Registry, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("npm: registry %s answered %s for %s", r.opts.Registry, resp.Status, name)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, DefaultMaxPackumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("npm: read packument of %s: %w", name, err)
	}
	if len(body) > DefaultMaxPackumentSize {
		return nil, fmt.Errorf("npm: packument of %s is over %d MiB", name, DefaultMaxPackumentSize>>20)
	}
	var p packument
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("npm: packument of %s is not JSON: %w", name, err)
	}
	return &p, nil
}

// tarball returns the package tarball whose sha512 is integrity, from the
// cache or the registry. Nothing unverified is returned or cached.
func (r *registry) tarball(ctx context.Context, name, version, tarURL, integrity string) ([]byte, error) {
	want, err := sha512SRI(integrity)
	if err != nil {
		return nil, fmt.Errorf("npm: %s@%s: %w", name, version, err)
	}
	cached := filepath.Join(r.opts.CacheDir, hex.EncodeToString(want)+".tgz")
	if data, err := os.ReadFile(cached); err == nil {
		if sum := sha512.Sum512(data); string(sum[:]) == string(want) {
			return data, nil
		}
		_ = os.Remove(cached) // corrupt: fetch again
	}
	u, err := url.Parse(tarURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("npm: %s@%s: tarball URL %q is not an http(s) URL", name, version, tarURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("npm: %w", err)
	}
	resp, err := r.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("npm: registry unreachable fetching %s@%s: %w", name, version, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("npm: registry answered %s for the tarball of %s@%s", resp.Status, name, version)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, r.opts.MaxTarballBytes+1))
	if err != nil {
		return nil, fmt.Errorf("npm: read tarball of %s@%s: %w", name, version, err)
	}
	if int64(len(data)) > r.opts.MaxTarballBytes {
		return nil, fmt.Errorf("npm: tarball of %s@%s is over %d bytes: refused", name, version, r.opts.MaxTarballBytes)
	}
	if sum := sha512.Sum512(data); string(sum[:]) != string(want) {
		return nil, fmt.Errorf("npm: tarball of %s@%s does not match its integrity %s: refused", name, version, integrity)
	}
	if err := writeAtomic(cached, data); err != nil {
		return nil, err
	}
	return data, nil
}

// sha512SRI decodes a subresource-integrity string's sha512 digest; older
// hash kinds (sha1) are refused.
func sha512SRI(integrity string) ([]byte, error) {
	for _, part := range strings.Fields(integrity) {
		if b64, ok := strings.CutPrefix(part, "sha512-"); ok {
			if i := strings.IndexByte(b64, '?'); i >= 0 {
				b64 = b64[:i]
			}
			sum, err := base64.StdEncoding.DecodeString(b64)
			if err != nil || len(sum) != sha512.Size {
				return nil, fmt.Errorf("integrity %q is not a valid sha512 digest", integrity)
			}
			return sum, nil
		}
	}
	if integrity == "" {
		return nil, errors.New("the registry gives no integrity hash: refused")
	}
	return nil, fmt.Errorf("integrity %q has no sha512 digest: refused", integrity)
}

// writeAtomic writes data to name through a temporary file and a rename,
// so a concurrent reader never sees half a tarball.
func writeAtomic(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("npm: cache: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return fmt.Errorf("npm: cache: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("npm: cache: %w", err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("npm: cache: %w", err)
	}
	return nil
}
