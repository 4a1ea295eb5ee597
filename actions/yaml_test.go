package actions_test

import (
	"sigs.k8s.io/yaml"

	"github.com/org/platform/pkg/spec"
)

func yamlOf(env spec.Environment) ([]byte, error) { return yaml.Marshal(env) }
