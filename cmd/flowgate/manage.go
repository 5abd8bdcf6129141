package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The management commands talk to a running service's management API (the
// same calls the web console makes): human tables by default, the API's
// JSON with --format json. The server and token come from flags, then
// FLOWGATE_SERVER / FLOWGATE_ADMIN_TOKEN, then the config file
// ($XDG_CONFIG_HOME/flowgate/config.json: {"server": "…", "token": "…"}).

const manageFlags = `
Common flags (before the arguments):
  --server URL      the service (FLOWGATE_SERVER, the config file, default http://127.0.0.1:8080)
  --token TOKEN     the admin token (FLOWGATE_ADMIN_TOKEN, or the config file)
  --env NAME        the environment (default production)
  --format table|json   a table (default) or the API's JSON

Exit status: 0 done, 1 the server refused (the message says why), 2 bad usage or no answer.
`

var manageUsages = map[string]string{
	"deployments": "Usage: flowgate deployments [flags] [WORKFLOW]\n\nLists the workflows (trigger, live and latest deployment), or one workflow's deployments.\n",
	"make-live":   "Usage: flowgate make-live [flags] WORKFLOW DEPLOYMENT\n\nMakes a deployment the live one of its workflow.\n",
	"rollback":    "Usage: flowgate rollback [flags] WORKFLOW\n\nMakes the previously live deployment live again.\n",
	"deactivate":  "Usage: flowgate deactivate [flags] WORKFLOW\n\nTakes the workflow's live deployment off its trigger.\n",
	"vars":        "Usage: flowgate vars [flags] [set NAME VALUE [--secret] | delete NAME]\n\nLists, sets or deletes environment variables. Secret values are never shown.\n  --secret   with set: store the value encrypted, write-only\n",
	"keys":        "Usage: flowgate keys [flags] WORKFLOW [create | activate KEY | deactivate KEY | delete KEY]\n\nLists or manages a workflow's encryption keys; create shows the new key once.\n",
	"logs":        "Usage: flowgate logs [flags] [--workflow ID] [--kind runtime|sync|build] [--follow]\n\nPrints runtime logs (oldest first), or the sync/build logs.\n  --follow   keep printing new runtime lines until interrupted\n",
	"preview":     "Usage: flowgate preview [flags] DEPLOYMENT\n\nSets a fresh preview password for a deployment and prints it with how to call it.\n",
	"recording":   recordingUsage,
	"sync":        "Usage: flowgate sync [flags] [SYNC_ID | again]\n\nLists recent syncs, or one sync with every diagnostic as file:line:col.\n`again` syncs the environment's last synced commit again (GitHub integration), e.g. after deleting or deactivating a workflow.\n",
}

// manageCommands are registered with the other commands in main.go.
func manageCommands() map[string]command {
	return map[string]command{
		"deployments": {"list workflows, or a workflow's deployments, on a server", runDeployments},
		"make-live":   {"make a deployment live on a server", runMakeLive},
		"rollback":    {"roll a workflow back to its previous live deployment", runRollback},
		"deactivate":  {"take a workflow's live deployment off its trigger", runDeactivate},
		"vars":        {"list, set or delete an environment's variables", runVars},
		"keys":        {"list, create, activate or delete a workflow's encryption keys", runKeys},
		"logs":        {"print (or follow) runtime, sync and build logs", runLogs},
		"preview":     {"get preview credentials for a deployment", runPreview},
		"sync":        {"list syncs, or show one with its diagnostics", runSync},
		"recording":   {"show, enable, disable, export or delete an environment's recorded trigger calls", runRecording},
	}
}

// remote is one management command's connection and output settings.
type remote struct {
	name, server, token, env, format string
	secret, follow                   bool
	workflow, kind                   string
	stdout, stderr                   io.Writer
	client                           *http.Client
	pollEvery                        time.Duration
	rec                              recordingFlags // flowgate recording's own
}

// parseRemote reads the common flags (and the command's own) and the
// positional arguments.
func parseRemote(name string, args []string, stdout, stderr io.Writer) (*remote, []string, int, bool) {
	r := &remote{name: name, stdout: stdout, stderr: stderr, client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: refuseRedirect}, pollEvery: 2 * time.Second}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&r.server, "server", "", "")
	fs.StringVar(&r.token, "token", "", "")
	fs.StringVar(&r.env, "env", "production", "")
	fs.StringVar(&r.format, "format", "table", "")
	fs.BoolVar(&r.secret, "secret", false, "")
	fs.BoolVar(&r.follow, "follow", false, "")
	fs.StringVar(&r.workflow, "workflow", "", "")
	fs.StringVar(&r.kind, "kind", "runtime", "")
	r.rec.register(fs)
	// Flags may follow positionals too (`vars set NAME VALUE --secret`).
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, manageUsages[name]+manageFlags)
				return nil, nil, exitOK, false
			}
			fmt.Fprintf(stderr, "flowgate %s: %v\n\n%s", name, err, manageUsages[name]+manageFlags)
			return nil, nil, exitUsage, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if r.format != "table" && r.format != "json" {
		fmt.Fprintf(stderr, "flowgate %s: unknown --format %q: use table or json\n", name, r.format)
		return nil, nil, exitUsage, false
	}
	if code, ok := r.resolve(); !ok {
		return nil, nil, code, false
	}
	return r, pos, 0, true
}

// resolve fills in the server and token from the environment and the
// config file (flags win) and checks them; name is the command's, for
// messages. `flowgate test --replay --against` shares it.
func (r *remote) resolve() (int, bool) {
	name, stderr := r.name, r.stderr
	cfg := readConfig()
	r.server = firstSet(r.server, os.Getenv("FLOWGATE_SERVER"), cfg.Server, "http://127.0.0.1:8080")
	r.token = firstSet(r.token, os.Getenv("FLOWGATE_ADMIN_TOKEN"))
	// The config file's token belongs to the config file's server: sent to
	// a server named by --server or FLOWGATE_SERVER it would leak.
	if r.token == "" && cfg.Token != "" {
		if home := firstSet(cfg.Server, "http://127.0.0.1:8080"); strings.TrimSuffix(home, "/") == strings.TrimSuffix(r.server, "/") {
			r.token = cfg.Token
		} else {
			fmt.Fprintf(stderr, "flowgate %s: the token in %s is for %s, not %s: pass --token or set FLOWGATE_ADMIN_TOKEN for this server\n",
				name, configPath(), printable(home), printable(r.server))
			return exitUsage, false
		}
	}
	if r.token == "" {
		fmt.Fprintf(stderr, "flowgate %s: no admin token: pass --token, set FLOWGATE_ADMIN_TOKEN, or put it in %s\n", name, configPath())
		return exitUsage, false
	}
	if u, err := url.Parse(r.server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "flowgate %s: --server %q is not an http(s) URL\n", name, r.server)
		return exitUsage, false
	}
	return 0, true
}

// refuseRedirect keeps the admin token (and a request's body, such as a
// secret's value) on the configured server: Go's client would carry the
// Authorization header to another port or scheme of the same host, and a
// 307 re-sends the body anywhere.
func refuseRedirect(req *http.Request, via []*http.Request) error {
	return fmt.Errorf("the server redirected to %s://%s%s: not followed, so the admin token stays with --server (point --server at the final address)",
		req.URL.Scheme, req.URL.Host, req.URL.Path)
}

type config struct {
	Server string `json:"server"`
	Token  string `json:"token"`
}

func configPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "flowgate/config.json under your configuration directory"
	}
	return filepath.Join(dir, "flowgate", "config.json")
}

func readConfig() config {
	var c config
	if b, err := os.ReadFile(configPath()); err == nil {
		_ = json.Unmarshal(b, &c) // a broken file is as good as none; flags and env still work
	}
	return c
}

func firstSet(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// apiError is a refusal from the server, with its message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (%d %s)", printable(e.message), e.status, printable(e.code))
}

// call makes one management API call under /api/v1/environments/{env};
// the answer's raw JSON is returned.
func (r *remote) call(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := strings.TrimSuffix(r.server, "/") + "/api/v1/environments/" + url.PathEscape(r.env) + path
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
			e.Error.Code, e.Error.Message = "http", strings.TrimSpace(string(data))
		}
		return nil, &apiError{resp.StatusCode, e.Error.Code, e.Error.Message}
	}
	return data, nil
}

// run makes a call and prints its answer: the JSON itself, or a table
// made by show from the decoded answer.
func (r *remote) run(method, path string, body any, show func(v map[string]any, w io.Writer)) int {
	data, err := r.call(context.Background(), method, path, body)
	if code := r.failed(err); code != 0 {
		return code
	}
	if r.format == "json" {
		if len(data) == 0 {
			data = []byte(`{}`)
		}
		var buf bytes.Buffer
		if json.Indent(&buf, data, "", "  ") != nil {
			buf.Reset()
			buf.Write(data)
		}
		fmt.Fprintln(r.stdout, buf.String())
		return exitOK
	}
	var v map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			fmt.Fprintf(r.stderr, "flowgate %s: the server's answer is not JSON: %v\n", r.name, err)
			return exitUsage
		}
	}
	show(v, r.stdout)
	return exitOK
}

func (r *remote) failed(err error) int {
	if err == nil {
		return 0
	}
	var ae *apiError
	if errors.As(err, &ae) {
		fmt.Fprintf(r.stderr, "flowgate %s: %s\n", r.name, ae.Error())
		return exitProblems
	}
	fmt.Fprintf(r.stderr, "flowgate %s: no answer from %s: %s\n", r.name, printable(r.server), printable(err.Error()))
	return exitUsage
}

// table prints rows of an answer's list under headers, reading fields by key.
func table(w io.Writer, items any, headers []string, keys []string, empty string) {
	list, _ := items.([]any)
	if len(list) == 0 {
		fmt.Fprintln(w, empty)
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, it := range list {
		m, _ := it.(map[string]any)
		cells := make([]string, len(keys))
		for i, k := range keys {
			cells[i] = cell(m[k])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		if x == "" {
			return "-"
		}
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && len(x) > 18 {
			return t.UTC().Format("2006-01-02 15:04:05")
		}
		return printable(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// printable keeps server text from acting on the terminal: a workflow's
// log lines, file paths and messages are anyone's text, and escape
// sequences (clipboard writes, cursor moves), carriage returns (a faked
// line) and bidi overrides in them are shown as \uXXXX instead; line
// breaks and tabs become spaces, keeping one row per item.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0x200e || r == 0x200f || r >= 0x2028 && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needArgs(r *remote, pos []string, n int) bool {
	if len(pos) != n {
		fmt.Fprintf(r.stderr, "flowgate %s: expected %d argument(s), got %d\n\n%s", r.name, n, len(pos), manageUsages[r.name]+manageFlags)
		return false
	}
	return true
}

func wfPath(id string) string { return "/workflows/" + url.PathEscape(id) }

func runDeployments(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("deployments", args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return r.run("GET", "/workflows", nil, func(v map[string]any, w io.Writer) {
			table(w, v["workflows"], []string{"WORKFLOW", "TRIGGER", "LIVE", "LATEST", "STATUS"},
				[]string{"id", "trigger", "liveDeploymentId", "latestDeploymentId", "latestStatus"}, "no workflows")
		})
	}
	if !needArgs(r, pos, 1) {
		return exitUsage
	}
	return r.run("GET", wfPath(pos[0])+"/deployments?limit=100", nil, func(v map[string]any, w io.Writer) {
		table(w, v["deployments"], []string{"DEPLOYMENT", "STATUS", "COMMIT", "CREATED", "FILE"},
			[]string{"id", "status", "commitSha", "createdAt", "file"}, "no deployments")
	})
}

func showDeployment(v map[string]any, w io.Writer) {
	fmt.Fprintf(w, "%s of %s is %s (commit %s)\n", cell(v["id"]), cell(v["workflowId"]), cell(v["status"]), cell(v["commitSha"]))
}

func runMakeLive(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("make-live", args, stdout, stderr)
	if !ok {
		return code
	}
	if !needArgs(r, pos, 2) {
		return exitUsage
	}
	return r.run("POST", wfPath(pos[0])+"/deployments/"+url.PathEscape(pos[1])+"/make-live", nil, showDeployment)
}

func runRollback(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("rollback", args, stdout, stderr)
	if !ok {
		return code
	}
	if !needArgs(r, pos, 1) {
		return exitUsage
	}
	return r.run("POST", wfPath(pos[0])+"/rollback", nil, showDeployment)
}

func runDeactivate(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("deactivate", args, stdout, stderr)
	if !ok {
		return code
	}
	if !needArgs(r, pos, 1) {
		return exitUsage
	}
	return r.run("POST", wfPath(pos[0])+"/deactivate", nil, func(map[string]any, io.Writer) {
		fmt.Fprintf(stdout, "%s is deactivated: its trigger runs nothing now\n", pos[0])
	})
}

func runVars(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("vars", args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case len(pos) == 0:
		return r.run("GET", "/variables", nil, func(v map[string]any, w io.Writer) {
			list, _ := v["variables"].([]any)
			for _, it := range list {
				if m, _ := it.(map[string]any); m["isSecret"] == true {
					m["value"] = "(secret)"
				}
			}
			table(w, v["variables"], []string{"NAME", "VALUE", "SECRET", "UPDATED"}, []string{"name", "value", "isSecret", "updatedAt"}, "no variables")
		})
	case pos[0] == "set" && len(pos) == 3:
		return r.run("PUT", "/variables/"+url.PathEscape(pos[1]), map[string]any{"value": pos[2], "isSecret": r.secret},
			func(v map[string]any, w io.Writer) {
				kind := "variable"
				if v["isSecret"] == true {
					kind = "secret"
				}
				fmt.Fprintf(w, "%s %s set\n", kind, cell(v["name"]))
			})
	case pos[0] == "delete" && len(pos) == 2:
		return r.run("DELETE", "/variables/"+url.PathEscape(pos[1]), nil, func(map[string]any, io.Writer) {
			fmt.Fprintf(stdout, "variable %s deleted\n", pos[1])
		})
	}
	fmt.Fprint(stderr, manageUsages["vars"]+manageFlags)
	return exitUsage
}

func runKeys(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("keys", args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case len(pos) == 1:
		return r.run("GET", wfPath(pos[0])+"/encryption-keys", nil, func(v map[string]any, w io.Writer) {
			table(w, v["keys"], []string{"KEY", "ACTIVE", "CREATED"}, []string{"id", "active", "createdAt"}, "no keys")
		})
	case len(pos) == 2 && pos[1] == "create":
		return r.run("POST", wfPath(pos[0])+"/encryption-keys", nil, func(v map[string]any, w io.Writer) {
			fmt.Fprintf(w, "key %s (active: %s)\n%s\nShown once: Flowgate keeps only a sealed copy.\n", cell(v["id"]), cell(v["active"]), cell(v["key"]))
		})
	case len(pos) == 3 && (pos[1] == "activate" || pos[1] == "deactivate"):
		return r.run("POST", wfPath(pos[0])+"/encryption-keys/"+url.PathEscape(pos[2])+"/"+pos[1], nil, func(map[string]any, io.Writer) {
			fmt.Fprintf(stdout, "key %s: %sd\n", pos[2], pos[1])
		})
	case len(pos) == 3 && pos[1] == "delete":
		return r.run("DELETE", wfPath(pos[0])+"/encryption-keys/"+url.PathEscape(pos[2]), nil, func(map[string]any, io.Writer) {
			fmt.Fprintf(stdout, "key %s deleted\n", pos[2])
		})
	}
	fmt.Fprint(stderr, manageUsages["keys"]+manageFlags)
	return exitUsage
}

func runPreview(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("preview", args, stdout, stderr)
	if !ok {
		return code
	}
	if !needArgs(r, pos, 1) {
		return exitUsage
	}
	return r.run("POST", "/deployments/"+url.PathEscape(pos[0])+"/preview", nil, func(v map[string]any, w io.Writer) {
		fmt.Fprintf(w, "deployment %s\npassword   %s\nCall the trigger with ?deploy_id=%s and the header %s: <password>.\n%s\n",
			cell(v["deploymentId"]), cell(v["password"]), cell(v["deploymentId"]), cell(v["header"]), cell(v["note"]))
	})
}

func runSync(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("sync", args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return r.run("GET", "/syncs?limit=20", nil, func(v map[string]any, w io.Writer) {
			table(w, v["syncs"], []string{"SYNC", "STATUS", "COMMIT", "SOURCE", "REQUESTED", "ERROR"},
				[]string{"id", "status", "commitSha", "source", "requestedAt", "error"}, "no syncs")
		})
	}
	if !needArgs(r, pos, 1) {
		return exitUsage
	}
	if pos[0] == "again" {
		// The environment's last synced commit, synced again as it is.
		r.client.Timeout = 10 * time.Minute // the answer comes once the sync has run
		return r.run("POST", "/sync", nil, func(v map[string]any, w io.Writer) {
			fmt.Fprintf(w, "synced commit %s into %s again: flowgate sync lists the result\n", cell(v["commitSha"]), cell(v["env"]))
		})
	}
	return r.run("GET", "/syncs/"+url.PathEscape(pos[0]), nil, func(v map[string]any, w io.Writer) {
		fmt.Fprintf(w, "sync %s: %s (commit %s, %s)\n", cell(v["id"]), cell(v["status"]), cell(v["commitSha"]), cell(v["source"]))
		entries, _ := v["log"].([]any)
		for _, e := range entries {
			fmt.Fprintln(w, diagLine(e))
		}
	})
}

// diagLine prints a sync log entry as file:line:col: severity: message [rule].
func diagLine(e any) string {
	m, _ := e.(map[string]any)
	where := cell(m["file"])
	if where == "-" {
		where = cell(m["workflowId"])
	}
	if line, _ := m["line"].(float64); line > 0 {
		col, _ := m["column"].(float64)
		where = fmt.Sprintf("%s:%d:%d", where, int(line), max(int(col), 1))
	}
	s := fmt.Sprintf("%s: %s: %s", where, cell(m["severity"]), cell(m["message"]))
	if rule := cell(m["rule"]); rule != "-" {
		s += " [" + rule + "]"
	}
	return s
}

func runLogs(args []string, stdout, stderr io.Writer) int {
	r, pos, code, ok := parseRemote("logs", args, stdout, stderr)
	if !ok {
		return code
	}
	if !needArgs(r, pos, 0) {
		return exitUsage
	}
	q := url.Values{"kind": {r.kind}}
	if r.workflow != "" {
		q.Set("workflow", r.workflow)
	}
	if r.kind != "runtime" {
		if r.follow {
			fmt.Fprintln(stderr, "flowgate logs: --follow is for runtime logs")
			return exitUsage
		}
		return r.run("GET", "/logs?"+q.Encode(), nil, func(v map[string]any, w io.Writer) {
			list, _ := v["logs"].([]any)
			for _, it := range list {
				m, _ := it.(map[string]any)
				fmt.Fprintf(w, "sync %s %s (commit %s)\n", cell(m["syncId"]), cell(m["status"]), cell(m["commitSha"]))
				entries, _ := m["entries"].([]any)
				for _, e := range entries {
					fmt.Fprintln(w, "  "+diagLine(e))
				}
			}
		})
	}
	if !r.follow {
		q.Set("limit", "100")
		return r.run("GET", "/logs?"+q.Encode(), nil, func(v map[string]any, w io.Writer) {
			printLogs(w, v["logs"], 0)
		})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return r.followLogs(ctx, q)
}

// printLogs prints runtime log rows oldest first, those after seq only;
// it returns the newest seq printed.
func printLogs(w io.Writer, rows any, after float64) float64 {
	list, _ := rows.([]any)
	newest := after
	for i := len(list) - 1; i >= 0; i-- {
		m, _ := list[i].(map[string]any)
		seq, _ := m["seq"].(float64)
		if seq <= after {
			continue
		}
		newest = max(newest, seq)
		line := fmt.Sprintf("%s %s %-5s %s", cell(m["at"]), cell(m["workflowId"]), cell(m["level"]), cell(m["message"]))
		if m["kind"] == "outcome" {
			line += fmt.Sprintf(" (%s ms)", cell(m["durationMs"]))
		}
		fmt.Fprintln(w, line)
	}
	return newest
}

// followLogs prints new runtime lines until ctx ends, asking every
// pollEvery for the newest page.
func (r *remote) followLogs(ctx context.Context, q url.Values) int {
	q.Set("limit", "1000")
	var last float64
	tick := time.NewTicker(r.pollEvery)
	defer tick.Stop()
	for {
		data, err := r.call(ctx, "GET", "/logs?"+q.Encode(), nil)
		if ctx.Err() != nil {
			return exitOK
		}
		if code := r.failed(err); code != 0 {
			return code
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			fmt.Fprintf(r.stderr, "flowgate logs: the server's answer is not JSON: %v\n", err)
			return exitUsage
		}
		if r.format == "json" {
			list, _ := v["logs"].([]any)
			for i := len(list) - 1; i >= 0; i-- {
				m, _ := list[i].(map[string]any)
				if seq, _ := m["seq"].(float64); seq > last {
					b, _ := json.Marshal(m)
					fmt.Fprintln(r.stdout, string(b))
					last = seq
				}
			}
		} else {
			last = printLogs(r.stdout, v["logs"], last)
		}
		select {
		case <-ctx.Done():
			return exitOK
		case <-tick.C:
		}
	}
}
