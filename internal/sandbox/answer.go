package sandbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"unicode/utf8"

	"github.com/flowgate/flowgate/internal/workflow"
)

// A run's answer in a fixed binary layout (msgResultBin): what encoding/json
// spent most of a supervised call's own CPU on. Strings are a 4-byte length
// and the bytes; in order: workflowId, trigger, status, failurePolicy,
// durationMs (8 bytes, IEEE 754), the error (a presence byte, then kind,
// message, stack), the logs (a count, then level and message each), the
// three tokens (a presence byte, resetClaims, then the claims as a value),
// the rarely set sections (auth, mfa, plan, widget, ssoSession, risk) as one
// JSON text (empty when none is set), the unmatched stub requests (a
// count, then each), and the recorded answers (Response.Fetch) as one JSON
// text (empty when none). A value is a tag byte — n(ull), t(rue), f(alse),
// d (8-byte float), s(tring), a(rray: count, values), m(ap: count, then key
// and value each).
//
// Only what JSON would carry unchanged is written this way: a string that
// is not valid UTF-8, a number JSON cannot write or a type the claims never
// hold make appendResult refuse, and the worker answers in JSON (msgResult)
// as before — so both encodings give the supervisor the same Result.
const msgResultBin = 'B'

// rareSections are the Result's sections a workflow seldom sets.
type rareSections struct {
	Auth       *workflow.Auth       `json:"auth,omitempty"`
	MFA        *workflow.MFA        `json:"mfa,omitempty"`
	Plan       *workflow.Plan       `json:"plan,omitempty"`
	Widget     *workflow.Widget     `json:"widget,omitempty"`
	SSOSession *workflow.SSOSession `json:"ssoSession,omitempty"`
	Risk       *workflow.Risk       `json:"risk,omitempty"`
}

// resultEncoder appends to b; ok turns false on anything the layout does
// not carry as JSON would.
type resultEncoder struct {
	b  []byte
	ok bool
}

func (e *resultEncoder) str(s string) {
	if !utf8.ValidString(s) {
		e.ok = false
	}
	e.b = binary.BigEndian.AppendUint32(e.b, uint32(len(s)))
	e.b = append(e.b, s...)
}

func (e *resultEncoder) flag(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *resultEncoder) value(v any, depth int) {
	if depth > maxAnswerDepth {
		e.ok = false
		return
	}
	switch t := v.(type) {
	case nil:
		e.b = append(e.b, 'n')
	case bool:
		if t {
			e.b = append(e.b, 't')
		} else {
			e.b = append(e.b, 'f')
		}
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			e.ok = false
		}
		e.b = append(e.b, 'd')
		e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(t))
	case string:
		e.b = append(e.b, 's')
		e.str(t)
	case []any:
		if t == nil {
			e.b = append(e.b, 'n') // as JSON: null
			return
		}
		e.b = append(e.b, 'a')
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(len(t)))
		for _, x := range t {
			e.value(x, depth+1)
		}
	case map[string]any:
		if t == nil {
			e.b = append(e.b, 'n')
			return
		}
		e.b = append(e.b, 'm')
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(len(t)))
		for k, x := range t {
			e.str(k)
			e.value(x, depth+1)
		}
	default:
		e.ok = false
	}
}

// appendResult appends resp in the binary layout; false when it holds
// something only JSON carries as the supervisor expects.
func appendResult(b []byte, resp *Response) ([]byte, bool) {
	r := resp.Result
	e := resultEncoder{b: b, ok: r != nil}
	if !e.ok {
		return b, false
	}
	e.str(r.WorkflowID)
	e.str(r.Trigger)
	e.str(r.Status)
	e.str(r.FailurePolicy)
	if math.IsNaN(r.DurationMs) || math.IsInf(r.DurationMs, 0) {
		return b, false
	}
	e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(r.DurationMs))
	e.flag(r.Error != nil)
	if r.Error != nil {
		e.str(string(r.Error.Kind))
		e.str(r.Error.Message)
		e.str(r.Error.Stack)
	}
	e.b = binary.BigEndian.AppendUint32(e.b, uint32(len(r.Logs)))
	for _, l := range r.Logs {
		e.str(l.Level)
		e.str(l.Message)
	}
	for _, t := range []*workflow.Token{r.AccessToken, r.IDToken, r.M2MToken} {
		e.flag(t != nil)
		if t != nil {
			e.flag(t.ResetClaims)
			if t.CustomClaims == nil {
				e.b = append(e.b, 'n')
			} else {
				e.value(t.CustomClaims, 1)
			}
		}
	}
	rare := rareSections{Auth: r.Auth, MFA: r.MFA, Plan: r.Plan, Widget: r.Widget, SSOSession: r.SSOSession, Risk: r.Risk}
	if rare == (rareSections{}) {
		e.b = binary.BigEndian.AppendUint32(e.b, 0)
	} else {
		text, err := json.Marshal(rare)
		if err != nil {
			return b, false
		}
		e.b = appendBytes(e.b, text)
	}
	e.b = binary.BigEndian.AppendUint32(e.b, uint32(len(resp.Unmatched)))
	for _, u := range resp.Unmatched {
		e.str(u)
	}
	if len(resp.Fetch) == 0 {
		e.b = binary.BigEndian.AppendUint32(e.b, 0)
	} else {
		text, err := json.Marshal(resp.Fetch)
		if err != nil {
			return b, false
		}
		e.b = appendBytes(e.b, text)
	}
	if !e.ok {
		return b, false
	}
	return e.b, true
}

var errBadAnswer = errors.New("the answer frame is malformed")

// decodeResult reads a msgResultBin body.
func decodeResult(body []byte) (Response, error) {
	d := decoder{b: body}
	r := &workflow.Result{}
	r.WorkflowID = string(d.bytes())
	r.Trigger = string(d.bytes())
	r.Status = string(d.bytes())
	r.FailurePolicy = string(d.bytes())
	r.DurationMs = math.Float64frombits(d.u64())
	if d.byte() == 1 {
		r.Error = &workflow.Error{Kind: workflow.ErrorKind(d.bytes()), Message: string(d.bytes()), Stack: string(d.bytes())}
	}
	if n := d.u32(); n > 0 && !d.bad {
		if int(n) > len(d.b)/8 { // each takes at least two lengths
			return Response{}, errBadAnswer
		}
		r.Logs = make([]workflow.Log, n)
		for i := range r.Logs {
			r.Logs[i] = workflow.Log{Level: string(d.bytes()), Message: string(d.bytes())}
		}
	}
	for _, t := range []**workflow.Token{&r.AccessToken, &r.IDToken, &r.M2MToken} {
		if d.byte() != 1 {
			continue
		}
		tok := &workflow.Token{ResetClaims: d.byte() == 1}
		v := d.value(1)
		if m, ok := v.(map[string]any); ok {
			tok.CustomClaims = m
		} else if v != nil {
			return Response{}, errBadAnswer
		}
		*t = tok
	}
	if rare := d.bytes(); len(rare) > 0 {
		var s rareSections
		if err := json.Unmarshal(rare, &s); err != nil {
			return Response{}, errBadAnswer
		}
		r.Auth, r.MFA, r.Plan, r.Widget, r.SSOSession, r.Risk = s.Auth, s.MFA, s.Plan, s.Widget, s.SSOSession, s.Risk
	}
	resp := Response{Result: r}
	if n := d.u32(); n > 0 && !d.bad {
		if int(n) > len(d.b)/4 {
			return Response{}, errBadAnswer
		}
		resp.Unmatched = make([]string, n)
		for i := range resp.Unmatched {
			resp.Unmatched[i] = string(d.bytes())
		}
	}
	if fetch := d.bytes(); len(fetch) > 0 {
		if err := json.Unmarshal(fetch, &resp.Fetch); err != nil {
			return Response{}, errBadAnswer
		}
	}
	if d.bad || len(d.b) > 0 {
		return Response{}, errBadAnswer
	}
	return resp, nil
}

// value reads one tagged value (see msgResultBin).
func (d *decoder) value(depth int) any {
	if depth > maxAnswerDepth+1 {
		d.bad = true
		return nil
	}
	switch d.byte() {
	case 'n':
		return nil
	case 't':
		return true
	case 'f':
		return false
	case 'd':
		return math.Float64frombits(d.u64())
	case 's':
		return string(d.bytes())
	case 'a':
		n := d.u32()
		if d.bad || int(n) > len(d.b) { // each takes at least a byte
			d.bad = true
			return nil
		}
		out := make([]any, n)
		for i := range out {
			out[i] = d.value(depth + 1)
		}
		return out
	case 'm':
		n := d.u32()
		if d.bad || int(n) > len(d.b)/5 { // a key's length and a tag
			d.bad = true
			return nil
		}
		out := make(map[string]any, n)
		for range n {
			k := string(d.bytes())
			out[k] = d.value(depth + 1)
		}
		return out
	}
	d.bad = true
	return nil
}
