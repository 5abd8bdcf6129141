package bindings

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/netguard"
	"github.com/flowgate/flowgate/internal/whatwgurl"
)

// fetchRequest is a kinde.fetch call's arguments, read from JS.
type fetchRequest struct {
	fn      string // "kinde.fetch" or "kinde.secureFetch", for messages
	url     *whatwgurl.URL
	method  string
	header  http.Header
	body    []byte
	hasBody bool
	format  string // "json" (default) or "text"
}

// fetch is kinde.fetch(url, options): a synchronous HTTP request whose
// result is a plain object {status, ok, headers, text, json}.
func (inv *Invocation) fetch(call goja.FunctionCall) goja.Value {
	req := inv.readFetch(call, "kinde.fetch", http.MethodGet)
	return inv.do(req)
}

// secureFetch is kinde.secureFetch: like fetch, POST by default, with the
// body sealed under the workflow's encryption key (secure.go).
func (inv *Invocation) secureFetch(call goja.FunctionCall) goja.Value {
	if len(inv.cfg.EncryptionKey) == 0 {
		inv.throwError("kinde.secureFetch: this workflow has no active encryption key; create one for the workflow " +
			"(or pass --encryption-key to `flowgate run`) and make it active")
	}
	req := inv.readFetch(call, "kinde.secureFetch", http.MethodPost)
	sealed, err := SealBody(inv.cfg.EncryptionKey, req.body)
	if err != nil {
		inv.throwError("kinde.secureFetch: %v", err)
	}
	req.body, req.hasBody = []byte(sealed), true
	return inv.do(req)
}

// readFetch reads and checks the url and options arguments.
func (inv *Invocation) readFetch(call goja.FunctionCall, fn, method string) *fetchRequest {
	req := &fetchRequest{fn: fn, method: method, header: http.Header{}, format: "json"}
	raw := call.Argument(0)
	var parsed *whatwgurl.URL
	switch u := raw.Export().(type) {
	case string:
		var err error
		if parsed, err = whatwgurl.Parse(u, nil); err != nil {
			inv.throwType("%s: invalid URL %q", fn, u)
		}
	case *urlObject:
		parsed = u.URL
	default:
		inv.throwType("%s: url must be a string or URL, got %s", fn, typeOf(raw))
	}
	if s := parsed.Scheme(); s != "http" && s != "https" {
		inv.throwType("%s: URL scheme %q is not allowed; only http and https URLs can be fetched", fn, parsed.Protocol())
	}
	req.url = parsed

	opts := call.Argument(1)
	if goja.IsUndefined(opts) || goja.IsNull(opts) {
		return req
	}
	o, ok := opts.(*goja.Object)
	if !ok {
		inv.throwType("%s: options must be an object, got %s", fn, typeOf(opts))
	}
	if m := o.Get("method"); m != nil && !goja.IsUndefined(m) {
		s, ok := m.Export().(string)
		if !ok || !validToken(s) {
			inv.throwType("%s: method must be an HTTP method name such as \"GET\" or \"POST\"", fn)
		}
		req.method = strings.ToUpper(s)
	}
	if f := o.Get("responseFormat"); f != nil && !goja.IsUndefined(f) {
		s, _ := f.Export().(string)
		if s != "json" && s != "text" {
			inv.throwType(`%s: responseFormat must be "json" or "text"`, fn)
		}
		req.format = s
	}
	if h := o.Get("headers"); h != nil && !goja.IsUndefined(h) && !goja.IsNull(h) {
		ho, ok := h.(*goja.Object)
		if !ok {
			inv.throwType("%s: headers must be an object, got %s", fn, typeOf(h))
		}
		for _, k := range ho.Keys() {
			if !validToken(k) {
				inv.throwType("%s: invalid header name %q", fn, k)
			}
			v := ho.Get(k).String()
			if strings.ContainsAny(v, "\r\n\x00") {
				inv.throwType("%s: header %q has an invalid value", fn, k)
			}
			req.header.Set(k, v)
		}
	}
	inv.readBody(req, o.Get("body"))
	return req
}

// readBody encodes the body: URLSearchParams as a form, a string raw,
// any other object as JSON; undefined and null mean no body.
func (inv *Invocation) readBody(req *fetchRequest, b goja.Value) {
	if b == nil || goja.IsUndefined(b) || goja.IsNull(b) {
		return
	}
	req.hasBody = true
	contentType := ""
	switch v := b.Export().(type) {
	case string:
		req.body = []byte(v)
		contentType = "text/plain;charset=UTF-8"
	case *searchParams:
		req.body = []byte(v.encode())
		contentType = "application/x-www-form-urlencoded;charset=UTF-8"
	default:
		if _, isObj := b.(*goja.Object); !isObj {
			req.body = []byte(b.String()) // numbers and booleans, as fetch does
			contentType = "text/plain;charset=UTF-8"
			break
		}
		j := inv.stringify(b)
		if goja.IsUndefined(j) {
			inv.throwType("%s: body cannot be serialised to JSON", req.fn)
		}
		req.body = []byte(j.String())
		contentType = "application/json"
	}
	if req.header.Get("Content-Type") == "" {
		req.header.Set("Content-Type", contentType)
	}
}

// do sends req under the network policy and builds the result object.
func (inv *Invocation) do(req *fetchRequest) goja.Value {
	pol := inv.cfg.Net
	host := req.url.Host()
	inv.requests++
	if inv.requests > pol.maxRequests() {
		inv.throwError("%s: too many requests: a workflow may make at most %d HTTP requests per run", req.fn, pol.maxRequests())
	}
	ctx, cancel := context.WithTimeout(inv.ctx, pol.timeout())
	defer cancel()
	var body io.Reader
	if req.hasBody {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, req.url.Href(), body)
	if err != nil {
		inv.throwType("%s: %v", req.fn, err)
	}
	hreq.Header = req.header
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", "flowgate-workflows")
	}
	resp, err := clientFor(pol).Do(hreq)
	if err != nil {
		inv.throwError("%s", inv.describeFetchError(req.fn, host, err))
	}
	defer resp.Body.Close()
	limit := pol.maxResponseBytes()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		inv.throwError("%s", inv.describeFetchError(req.fn, host, err))
	}
	if int64(len(data)) > limit {
		inv.throwError("%s: the response from %s is larger than the %d-byte limit", req.fn, host, limit)
	}
	return inv.fetchResult(resp, data, req.format)
}

// describeFetchError turns a transport error into a message naming the
// host and the cause, without the full URL (its query may hold secrets).
func (inv *Invocation) describeFetchError(fn, host string, err error) string {
	var blocked *netguard.BlockedError
	switch {
	case errors.As(err, &blocked):
		return fn + ": " + blocked.Error()
	case errors.Is(err, errTooManyRedirects):
		return fn + ": request to " + host + " failed: too many redirects (at most 5 are followed)"
	case errors.Is(err, context.DeadlineExceeded) && inv.ctx.Err() == nil:
		return fn + ": request to " + host + " timed out after " + inv.cfg.Net.timeout().String()
	case inv.ctx.Err() != nil:
		return fn + ": request to " + host + " cancelled: the run has ended"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fn + ": request to " + host + " failed: " + err.Error()
}

// fetchResult is the plain object kinde.fetch returns: no `then`, so
// both `await kinde.fetch()` and the library's synchronous use work.
// text is always the body; json is the parsed body unless responseFormat
// is "text" or the body is not JSON (then json is undefined).
func (inv *Invocation) fetchResult(resp *http.Response, data []byte, format string) goja.Value {
	o := inv.vm.NewObject()
	o.Set("status", resp.StatusCode)
	o.Set("statusText", strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode))))
	o.Set("ok", resp.StatusCode >= 200 && resp.StatusCode < 300)
	o.Set("url", resp.Request.URL.String())
	h := inv.vm.NewObject()
	for k, vs := range resp.Header {
		h.Set(strings.ToLower(k), strings.Join(vs, ", "))
	}
	o.Set("headers", h)
	text := string(data)
	o.Set("text", text)
	if format == "json" {
		if v, ok := inv.parseJSON(text); ok {
			o.Set("json", v)
		}
	}
	return o
}

// validToken reports whether s is an HTTP token (method or header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}
