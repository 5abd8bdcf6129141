package runtime

import "github.com/flowgate/flowgate/internal/workflow"

func settings() workflow.Settings {
	return workflow.Settings{ID: "wf", Trigger: workflow.UserTokenGeneration,
		Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}, workflow.BindConsole: {}}}
}
