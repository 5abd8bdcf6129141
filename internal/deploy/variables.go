package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// MaxVariableBytes bounds one variable's value.
const MaxVariableBytes = 64 << 10

// VariableView is a variable as it may be shown (the API, the console): a secret's
// value is never included.
type VariableView struct {
	Name      string
	Value     string // "" for secrets
	IsSecret  bool
	UpdatedAt time.Time
}

// EnvValue is a variable as a workflow invocation sees it (kinde.env).
type EnvValue = workflow.EnvVar

// unreadableSecret is the message an invocation that reads a secret no
// configured master key opens fails with.
func unreadableSecret(name string) string {
	return fmt.Sprintf("the secret variable %s cannot be decrypted with the master keys Flowgate holds (it was sealed under a key no longer in FLOWGATE_MASTER_KEY, or it is damaged): set the variable again, or add its key back to FLOWGATE_MASTER_KEY and run a re-seal", name)
}

// variableAAD binds a sealed value to its environment and name: a value
// copied to another row does not open.
func variableAAD(env, name string) []byte { return []byte("flowgate/var/" + env + "/" + name) }

func keyAAD(env, workflowID, id string) []byte {
	return []byte("flowgate/key/" + env + "/" + workflowID + "/" + id)
}

// PutVariable creates or replaces a variable; a secret one is sealed
// before it reaches the database.
func (s *Service) PutVariable(ctx context.Context, env, name, value string, secret bool) error {
	if err := validName("variable", name); err != nil {
		return err
	}
	if len(value) > MaxVariableBytes {
		return fmt.Errorf("variable %s: value is over %d bytes: %w", name, MaxVariableBytes, ErrInvalid)
	}
	if err := s.EnsureEnvironment(ctx, env); err != nil {
		return err
	}
	stored := []byte(value)
	if secret {
		sealed, err := s.cipher.Seal([]byte(value), variableAAD(env, name))
		if err != nil {
			return fmt.Errorf("deploy: seal variable %s: %w", name, err)
		}
		stored = sealed
	}
	return s.db.PutVariable(ctx, store.Variable{Env: env, Name: name, Value: stored, Secret: secret})
}

func view(v store.Variable) VariableView {
	out := VariableView{Name: v.Name, IsSecret: v.Secret, UpdatedAt: v.UpdatedAt}
	if !v.Secret {
		out.Value = string(v.Value)
	}
	return out
}

// Variable reads one variable (a secret without its value).
func (s *Service) Variable(ctx context.Context, env, name string) (VariableView, error) {
	v, err := s.db.Variable(ctx, env, name)
	if err != nil {
		return VariableView{}, err
	}
	return view(v), nil
}

// Variables lists an environment's variables (secrets without values).
func (s *Service) Variables(ctx context.Context, env string) ([]VariableView, error) {
	vs, err := s.db.Variables(ctx, env)
	if err != nil {
		return nil, err
	}
	out := make([]VariableView, len(vs))
	for i, v := range vs {
		out[i] = view(v)
	}
	return out, nil
}

// DeleteVariable removes a variable (ErrNotFound when absent).
func (s *Service) DeleteVariable(ctx context.Context, env, name string) error {
	return s.db.DeleteVariable(ctx, env, name)
}

// EnvForInvocation returns every variable of an environment with secrets
// opened, for kinde.env in one invocation. Never serve this over the API.
// A secret that does not open is returned as Unreadable, not as an error:
// it fails the invocations that read it, not every trigger of the
// environment.
func (s *Service) EnvForInvocation(ctx context.Context, env string) (map[string]EnvValue, error) {
	vs, err := s.db.Variables(ctx, env)
	if err != nil {
		return nil, err
	}
	out := make(map[string]EnvValue, len(vs))
	for _, v := range vs {
		val := v.Value
		if v.Secret {
			if val, err = s.cipher.Open(v.Value, variableAAD(env, v.Name)); err != nil {
				// Name the variable, never the bytes.
				s.log.Warn("secret variable does not open", "env", env, "name", v.Name, "err", err)
				out[v.Name] = EnvValue{IsSecret: true, Unreadable: unreadableSecret(v.Name)}
				continue
			}
		}
		out[v.Name] = EnvValue{Value: string(val), IsSecret: v.Secret}
	}
	return out, nil
}
