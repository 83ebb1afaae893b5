// etcd's own command (its main.go is just this call), built from the server module so no release
// download is needed: the Go module proxy is the one source the tests' build can count on.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
