package bindings

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/outbound"
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
	if inv.cfg.EncryptionKeyError != "" {
		inv.throwError(ErrUnavailable, "kinde.secureFetch: %s", inv.cfg.EncryptionKeyError)
	}
	if len(inv.cfg.EncryptionKey) == 0 {
		inv.throwError(ErrUnavailable, "kinde.secureFetch: this workflow has no active encryption key; create one for the workflow "+
			"(or pass --encryption-key to `flowgate run`) and make it active")
	}
	req := inv.readFetch(call, "kinde.secureFetch", http.MethodPost)
	sealed, err := SealBody(inv.cfg.EncryptionKey, req.body)
	if err != nil {
		inv.throwError(ErrUnavailable, "kinde.secureFetch: %v", err)
	}
	req.body, req.hasBody = []byte(sealed), true
	return inv.do(req)
}

// readFetch reads and checks the url and options arguments.
func (inv *Invocation) readFetch(call goja.FunctionCall, fn, method string) *fetchRequest {
	req := &fetchRequest{fn: fn, method: method, header: http.Header{}, format: "json"}
	raw := call.Argument(0)
	var parsed *whatwgurl.URL
	if u, ok := str(raw); ok {
		if len(u) > 3*maxURLText { // as for new URL: parsing is one native call
			inv.throwType("%s: the URL is longer than %d bytes", fn, 3*maxURLText)
		}
		var err error
		if parsed, err = whatwgurl.Parse(u, nil); errors.Is(err, whatwgurl.ErrTooComplex) {
			inv.throwType("%s: %v", fn, err)
		} else if err != nil {
			inv.throwType("%s: invalid URL %q", fn, cutUTF8(inv.Redact(u), 200)) // redact, then cut
		}
	} else if u, ok := hostURL(raw); ok {
		parsed = u.URL
	} else {
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
		s, ok := str(m)
		if !ok || !validToken(s) {
			inv.throwType("%s: method must be an HTTP method name such as \"GET\" or \"POST\"", fn)
		}
		req.method = strings.ToUpper(s)
	}
	if f := o.Get("responseFormat"); f != nil && !goja.IsUndefined(f) {
		s, _ := str(f)
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
		keys := inv.listKeys(ho, fn+": headers")
		if len(keys) > maxHeaders {
			inv.throwType("%s: at most %d headers may be sent, got %d", fn, maxHeaders, len(keys))
		}
		size := 0
		for _, k := range keys {
			if !validToken(k) {
				inv.throwType("%s: invalid header name %q", fn, k)
			}
			v := get(ho, k).String()
			if size += len(k) + len(v); size > maxHeaderBytes {
				inv.throwType("%s: the headers are larger than %d bytes", fn, maxHeaderBytes)
			}
			if strings.ContainsAny(v, "\r\n\x00") {
				inv.throwType("%s: header %q has an invalid value", fn, k)
			}
			req.header.Set(k, v)
		}
	}
	inv.readBody(req, o.Get("body"))
	return req
}

// Request header bounds: a workflow's headers are its own few, and the
// server would refuse more anyway.
const (
	maxHeaders     = 100
	maxHeaderBytes = 32 << 10
)

// readBody encodes the body: URLSearchParams as a form, a string raw,
// any other object as JSON; undefined and null mean no body.
func (inv *Invocation) readBody(req *fetchRequest, b goja.Value) {
	if b == nil || goja.IsUndefined(b) || goja.IsNull(b) {
		return
	}
	req.hasBody = true
	contentType := ""
	if v, ok := str(b); ok {
		req.body = []byte(v)
		contentType = "text/plain;charset=UTF-8"
	} else if sp, ok := host[*searchParams](b); ok {
		req.body = []byte(sp.encode())
		contentType = "application/x-www-form-urlencoded;charset=UTF-8"
	} else if _, isObj := b.(*goja.Object); !isObj {
		req.body = []byte(b.String()) // numbers and booleans, as fetch does
		contentType = "text/plain;charset=UTF-8"
	} else {
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

// session is the run's outbound HTTP session, made on first use.
func (inv *Invocation) session() *outbound.Session {
	if inv.out == nil {
		inv.out = outbound.NewSession(inv.ctx, inv.cfg.Net, inv.cfg.Clients)
	}
	return inv.out
}

// do sends req under the network policy and builds the result object.
func (inv *Invocation) do(req *fetchRequest) goja.Value {
	var body []byte
	if req.hasBody {
		body = req.body
		if body == nil {
			body = []byte{}
		}
	}
	s := inv.session()
	resp, err := s.Do(outbound.Request{Method: req.method, URL: req.url.Href(), Header: req.header, Body: body})
	if err != nil {
		kind := ErrRequestFailed
		if outbound.IsPolicy(err) {
			kind = ErrNetworkPolicy
		}
		inv.throwError(kind, "%s: %s", req.fn, s.Describe(req.url.Host(), err))
	}
	return inv.fetchResult(resp, req.format)
}

// Response JSON bounds: parsing is lazy (on the first read of .json) and
// refused past these, so a hostile body cannot make the parser recurse or
// allocate far beyond the body's own size.
const (
	MaxJSONDepth      = 512
	MaxJSONContainers = 100_000
)

// fetchResult is the plain object kinde.fetch returns: no `then`, so
// both `await kinde.fetch()` and the library's synchronous use work.
// text is always the body; json is the body parsed on first read (an
// accessor, so a body nobody reads as JSON costs nothing), or undefined
// when responseFormat is "text" or the body is not JSON.
func (inv *Invocation) fetchResult(resp *outbound.Response, format string) goja.Value {
	o := inv.vm.NewObject()
	o.Set("status", resp.Status)
	o.Set("statusText", resp.StatusText)
	o.Set("ok", resp.Status >= 200 && resp.Status < 300)
	o.Set("url", resp.URL)
	h := inv.vm.NewObject()
	for k, vs := range resp.Header {
		h.Set(strings.ToLower(k), strings.Join(vs, ", "))
	}
	o.Set("headers", h)
	text := string(resp.Body)
	o.Set("text", text)
	if format != "json" {
		return o
	}
	// On first read the accessor replaces itself with a plain, writable
	// property holding the parsed value, as the eager object had.
	settle := func(v goja.Value) {
		if err := o.DefineDataProperty("json", v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
			panic(err)
		}
	}
	getter, err := hostFunc(inv.vm, "get json", func(goja.FunctionCall) goja.Value {
		inv.jsonRead = true
		var v goja.Value = goja.Undefined()
		if err := checkJSONShape(resp.Body); err != nil {
			inv.log("warn", "kinde.fetch: the response body was not parsed as JSON: "+err.Error())
		} else if p, ok := inv.parseJSON(text); ok {
			v = p
		}
		settle(v)
		return v
	})
	if err != nil {
		panic(err)
	}
	setter, err := hostFunc(inv.vm, "set json", func(call goja.FunctionCall) goja.Value {
		settle(call.Argument(0))
		return goja.Undefined()
	})
	if err != nil {
		panic(err)
	}
	if err := o.DefineAccessorProperty("json", getter, setter, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
		panic(err)
	}
	return o
}

// checkJSONShape scans a JSON text (strings skipped) and refuses one that
// nests deeper than MaxJSONDepth or has more than MaxJSONContainers
// objects and arrays. It does not validate the text; JSON.parse does.
func checkJSONShape(b []byte) error {
	depth, containers, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			containers++
			if depth > MaxJSONDepth {
				return fmt.Errorf("it nests deeper than %d levels", MaxJSONDepth)
			}
			if containers > MaxJSONContainers {
				return fmt.Errorf("it has more than %d objects and arrays", MaxJSONContainers)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
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
