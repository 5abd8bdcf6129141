package server

import (
	"net/http"

	"github.com/flowgate/flowgate/internal/httpjson"
)

// startReseal: POST /api/v1/secrets/reseal queues a re-seal of every
// sealed value under the current master key (202 with the run; the run
// already under way, when there is one).
func (s *Server) startReseal(w http.ResponseWriter, r *http.Request) {
	run, err := s.deploy.StartReseal(r.Context(), s.opts.Jobs)
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusAccepted, viewResealRun(run))
}

// getReseal: GET /api/v1/secrets/reseal (the newest run) and
// GET /api/v1/secrets/reseal/{id}: a run's state and progress.
func (s *Server) getReseal(w http.ResponseWriter, r *http.Request) {
	run, err := s.deploy.ResealRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, viewResealRun(run))
}
