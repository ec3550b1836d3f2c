// Command etcd is the etcd server, built from the go.etcd.io/etcd/server module
// at the version go.mod pins (the project builds its own etcd instead of
// downloading a release, because only the Go module proxy is reachable).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
