package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/internal/recording"
	"github.com/flowgate/flowgate/internal/replay"
)

// The recording section of an environment's page (docs/recording.md):
// the on/off toggle with the workflows recorded and the sample rate, the
// export link and delete-all. Changes are posted forms (CSRF-checked by
// authed); the export is for those who may change the environment.

// recordingData is what the workflows page shows of recording.
func (c *Console) recordingData(r *http.Request, env string) map[string]any {
	st, err := c.deploy.RecordingSettings(r.Context(), env)
	if err != nil {
		c.log.Warn("console: recording settings", "env", env, "err", err)
		return nil
	}
	counts, _ := c.deploy.RecordingCounts(r.Context(), env)
	return map[string]any{"Settings": st, "Counts": counts, "SamplePercent": strconv.FormatFloat(st.SampleRate*100, 'f', -1, 64)}
}

// recorded reports whether the settings record workflow id (templates).
func recorded(st recording.Settings, id string) bool { return slices.Contains(st.Workflows, id) }

func (c *Console) putRecording(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	st, err := c.deploy.RecordingSettings(r.Context(), env)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	st.Enabled = r.PostForm.Get("enabled") == "on"
	st.Workflows = []string{}
	for _, id := range r.PostForm["workflow"] {
		if !slices.Contains(st.Workflows, id) {
			st.Workflows = append(st.Workflows, id)
		}
	}
	if p := strings.TrimSpace(r.PostForm.Get("samplePercent")); p != "" {
		pct, err := strconv.ParseFloat(p, 64)
		if err != nil || pct == 0 {
			pct = -1 // refused below, with the settings' own message (0 would mean "the default")
		}
		st.SampleRate = pct / 100
	}
	if _, err := c.deploy.PutRecordingSettings(r.Context(), env, st); err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "put-recording", env, "", "enabled", st.Enabled, "workflows", len(st.Workflows))
	c.done(w, r, envURL(env), "recording")
}

func (c *Console) deleteRecordings(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	n, err := c.deploy.DeleteRecordings(r.Context(), env)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.audit(r, s, "delete-recordings", env, "", "deleted", n)
	c.done(w, r, envURL(env), "recordings-gone")
}

// exportRecordings downloads the recordings as JSON Lines; like a change,
// it needs permission to change the environment (recordings are redacted,
// but still traffic).
func (c *Console) exportRecordings(w http.ResponseWriter, r *http.Request, s *session) {
	env, wf := r.PathValue("env"), r.URL.Query().Get("workflow")
	if !c.canChange(r.Context(), s, env) {
		c.render(w, r, http.StatusForbidden, "error", s, map[string]any{"Title": "Forbidden",
			"Message": "Exporting the recordings of " + env + " needs " + c.minPermission() + " permission on its repository."})
		return
	}
	if wf != "" && !recording.ValidWorkflowID(wf) {
		c.render(w, r, http.StatusBadRequest, "error", s, map[string]any{"Title": "Bad Request", "Message": "That is not a workflow id."})
		return
	}
	c.audit(r, s, "export-recordings", env, wf)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="recordings-`+env+`.jsonl"`)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := c.deploy.ExportRecordings(r.Context(), env, wf, func(rec replay.Recorded) error { return enc.Encode(rec) }); err != nil {
		c.log.Warn("console: export recordings ended early", "env", env, "err", err)
	}
}
