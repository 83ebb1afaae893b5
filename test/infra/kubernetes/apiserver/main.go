// kube-apiserver as the Kubernetes release builds it (cmd/kube-apiserver/apiserver.go), so the tests meet
// the same server a cluster runs.
package main

import (
	"os"
	// CronJob time zones are looked up in the binary, not on the host, so a bare machine still has them.
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
