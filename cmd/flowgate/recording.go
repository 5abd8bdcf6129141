package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
)

const recordingUsage = `Usage: flowgate recording [flags] [status | enable WORKFLOW... | disable [WORKFLOW...] | export | delete-all --yes]

Shows or changes what the environment records of its trigger traffic for behaviour diffs
(docs/recording.md). Recording is off until enabled, and only for the workflows named.
  status                 the settings and how many calls each workflow has recorded (default)
  enable WORKFLOW...     turn recording on and add the workflows
    --sample-rate R        share of calls recorded, more than 0 and at most 1
    --max-per-workflow N   recordings kept per workflow (the oldest go first)
    --retention-days D     recordings older than this are deleted
  disable [WORKFLOW...]  stop recording the workflows, or (none named) turn recording off;
                         what was recorded stays until its retention or delete-all
  export                 the recordings as JSON Lines (replay.Recorded), newest first,
                         for flowgate test --replay
    --workflow ID          one workflow's only
    --out FILE             write to FILE instead of standard output
  delete-all --yes       delete every recording of the environment
`

// recordingFlags are flowgate recording's flags beyond the common ones.
type recordingFlags struct {
	sampleRate   float64
	maxPer, days int
	yes          bool
	out          string
}

func (f *recordingFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.sampleRate, "sample-rate", 0, "")
	fs.IntVar(&f.maxPer, "max-per-workflow", 0, "")
	fs.IntVar(&f.days, "retention-days", 0, "")
	fs.BoolVar(&f.yes, "yes", false, "")
	fs.StringVar(&f.out, "out", "", "")
}

func runRecording(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("recording", args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		pos = []string{"status"}
	}
	switch verb, names := pos[0], pos[1:]; {
	case verb == "status" && len(names) == 0:
		return r.run("GET", "/recording", nil, showRecording)
	case verb == "enable" && len(names) > 0:
		return r.changeRecording(func(s map[string]any) {
			s["enabled"] = true
			s["workflows"] = union(s["workflows"], names)
			if r.rec.sampleRate != 0 {
				s["sampleRate"] = r.rec.sampleRate
			}
			if r.rec.maxPer != 0 {
				s["maxPerWorkflow"] = r.rec.maxPer
			}
			if r.rec.days != 0 {
				s["retentionDays"] = r.rec.days
			}
		})
	case verb == "disable":
		return r.changeRecording(func(s map[string]any) {
			if len(names) == 0 {
				s["enabled"] = false
				return
			}
			s["workflows"] = without(s["workflows"], names)
		})
	case verb == "export" && len(names) == 0:
		return r.exportRecordings()
	case verb == "delete-all" && len(names) == 0:
		if !r.rec.yes {
			fmt.Fprintf(stderr, "flowgate recording: delete-all deletes every recording of %s for good: add --yes\n", printable(r.env))
			return exitUsage
		}
		return r.run("DELETE", "/recordings", nil, func(v map[string]any, w io.Writer) {
			fmt.Fprintf(w, "deleted %s recordings of %s\n", cell(v["deleted"]), printable(r.env))
		})
	}
	fmt.Fprint(stderr, recordingUsage+manageFlags)
	return exitUsage
}

// changeRecording reads the settings, changes them and writes them back
// (the API replaces them whole).
func (r *remote) changeRecording(change func(map[string]any)) int {
	data, err := r.call(context.Background(), "GET", "/recording", nil)
	if code := r.failed(err); code != 0 {
		return code
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		fmt.Fprintf(r.stderr, "flowgate recording: the server's answer is not JSON: %v\n", err)
		return exitUsage
	}
	delete(s, "recorded") // the view's counts, not a setting
	change(s)
	return r.run("PUT", "/recording", s, showRecording)
}

func showRecording(v map[string]any, w io.Writer) {
	state := "off"
	if v["enabled"] == true {
		state = "on"
	}
	fmt.Fprintf(w, "recording: %s\n", state)
	rate, _ := v["sampleRate"].(float64)
	fmt.Fprintf(w, "sample rate: %s%%\n", cell(rate*100))
	fmt.Fprintf(w, "kept: %s per workflow, %s days\n", cell(v["maxPerWorkflow"]), cell(v["retentionDays"]))
	if p, ok := v["pii"].(map[string]any); ok {
		fmt.Fprintf(w, "personal data: emails %s, ips %s, phones %s, names %s, usernames %s", cell(p["emails"]), cell(p["ips"]),
			cell(p["phones"]), cell(p["names"]), cell(p["usernames"]))
		if d, _ := p["dropFields"].([]any); len(d) > 0 {
			fmt.Fprintf(w, "; dropped: %s", cell(d))
		}
		fmt.Fprintln(w)
	}
	counts, _ := v["recorded"].(map[string]any)
	names := map[string]bool{}
	for _, n := range strs(v["workflows"]) {
		names[n] = true
	}
	for n := range counts {
		names[n] = true
	}
	if len(names) == 0 {
		fmt.Fprintln(w, "no workflows recorded")
		return
	}
	rows := []any{}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		c, ok := counts[n]
		if !ok {
			c = float64(0)
		}
		rows = append(rows, map[string]any{"workflow": n, "recording": v["enabled"] == true && slices.Contains(strs(v["workflows"]), n), "recorded": c})
	}
	table(w, rows, []string{"WORKFLOW", "RECORDING", "RECORDED"}, []string{"workflow", "recording", "recorded"}, "")
}

// exportRecordings streams the export to --out or standard output, never
// holding it in memory.
func (r *remote) exportRecordings() int {
	path := "/recordings/export"
	if r.workflow != "" {
		path += "?workflow=" + url.QueryEscape(r.workflow)
	}
	u := strings.TrimSuffix(r.server, "/") + "/api/v1/environments/" + url.PathEscape(r.env) + path
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return r.failed(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	client := *r.client
	client.Timeout = 0 // a large export may take a while; the server bounds it
	resp, err := client.Do(req)
	if err != nil {
		return r.failed(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
			e.Error.Code, e.Error.Message = "http", strings.TrimSpace(string(data))
		}
		return r.failed(&apiError{resp.StatusCode, e.Error.Code, e.Error.Message})
	}
	out := r.stdout
	if r.rec.out != "" {
		f, err := os.OpenFile(r.rec.out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600) // recordings are private even redacted
		if err != nil {
			fmt.Fprintf(r.stderr, "flowgate recording: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		out = f
	}
	n, err := io.Copy(out, resp.Body)
	if err != nil {
		fmt.Fprintf(r.stderr, "flowgate recording: export cut short after %d bytes: %s\n", n, printable(err.Error()))
		return exitUsage
	}
	if r.rec.out != "" {
		fmt.Fprintf(r.stdout, "wrote %s\n", printable(r.rec.out))
	}
	return exitOK
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func union(v any, add []string) []string {
	out := strs(v)
	for _, n := range add {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func without(v any, drop []string) []string {
	out := []string{}
	for _, n := range strs(v) {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}
