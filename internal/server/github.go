package server

import (
	"net/http"

	"github.com/flowgate/flowgate/internal/httpjson"
	"github.com/flowgate/flowgate/internal/store"
)

// githubRepository is an environment's GitHub binding as the API shows it.
type githubRepository struct {
	Repository   string `json:"repository"`
	RepositoryID int64  `json:"repositoryId"` // 0: bound by the next push of Repository
	Branch       string `json:"branch"`
}

func viewGitHubRepository(s store.Source) githubRepository {
	return githubRepository{Repository: s.Ref, RepositoryID: s.RepoID, Branch: s.Branch}
}

// getGitHubRepository: GET …/{env}/github-repository.
func (s *Server) getGitHubRepository(w http.ResponseWriter, r *http.Request) {
	src, err := s.deploy.SourceFor(r.Context(), r.PathValue("env"))
	if err != nil || src.Kind != "github" {
		httpjson.Error(w, http.StatusNotFound, "not_found", "the environment is not fed by a GitHub repository")
		return
	}
	httpjson.Write(w, http.StatusOK, viewGitHubRepository(src))
}

// putGitHubRepository: PUT …/{env}/github-repository
// {"repository": "owner/name", "repositoryId": 123} re-binds the
// environment to another repository (repositoryId 0 or absent: the next
// push of the repository with that name binds it).
func (s *Server) putGitHubRepository(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Repository   string `json:"repository"`
		RepositoryID int64  `json:"repositoryId"`
	}
	if !decode(w, r, &body) {
		return
	}
	src, err := s.deploy.RebindGitHub(r.Context(), r.PathValue("env"), body.Repository, body.RepositoryID)
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, viewGitHubRepository(src))
}
