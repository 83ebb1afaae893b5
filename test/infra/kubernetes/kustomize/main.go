// kustomize as its release builds it (kustomize/main.go), so the tests render the deploy/ manifests with
// the same kustomize a team runs (kubectl's embedded one lags behind it).
package main

import (
	"os"

	"sigs.k8s.io/kustomize/kustomize/v5/commands"
)

func main() {
	if err := commands.NewDefaultCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
