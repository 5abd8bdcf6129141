package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/httpjson"
)

// artifactView is a deployment's build, as `flowgate test --replay
// --against` runs it: the settings read at sync time, the bundle and its
// source map (base64 in JSON).
type artifactView struct {
	ID           string          `json:"id"`
	WorkflowID   string          `json:"workflowId"`
	Settings     json.RawMessage `json:"settings"`
	BundleSHA256 string          `json:"bundleSha256"`
	Bundle       []byte          `json:"bundle"`
	SourceMap    []byte          `json:"sourceMap,omitempty"`
}

// getArtifact answers a deployment's bundle, source map and settings (the
// management API; the admin token can already make any of them live).
func (s *Server) getArtifact(w http.ResponseWriter, r *http.Request) {
	d, err := s.deploy.Deployment(r.Context(), r.PathValue("env"), r.PathValue("dep"))
	if err != nil {
		s.fail(w, err)
		return
	}
	if d.BundleDigest == "" {
		s.fail(w, fmt.Errorf("deployment %s has no bundle (status %s): %w", d.ID, d.Status, deploy.ErrConflict))
		return
	}
	code, err := s.deploy.Artifact(r.Context(), d.BundleDigest)
	if err != nil {
		s.fail(w, err)
		return
	}
	var sourceMap []byte
	if d.SourceMapDigest != "" {
		if sourceMap, err = s.deploy.Artifact(r.Context(), d.SourceMapDigest); err != nil {
			s.fail(w, err)
			return
		}
	}
	httpjson.Write(w, http.StatusOK, artifactView{ID: d.ID, WorkflowID: d.WorkflowID, Settings: d.Settings,
		BundleSHA256: d.BundleDigest, Bundle: code, SourceMap: sourceMap})
}
