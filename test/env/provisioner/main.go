// Command node-volumes is the local cluster's dynamic volume provisioner: it
// answers PersistentVolumeClaims of StorageClasses naming it with a directory
// on the node the scheduler picked (WaitForFirstConsumer), exposed as a
// `local` PersistentVolume pinned to that node, as node-local storage is on
// bare-metal clusters. A released volume of reclaim policy Delete has its
// directory removed and its PersistentVolume deleted.
//
// It runs as a process on the host, beside the API server (not as a pod), so
// that draining or killing nodes never stops it; the nodes' directories are
// then ordinary host paths to it. See docs/local-cluster.md.
package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

func main() {
	klog.InitFlags(nil)
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the provisioner's identity")
	nodesDir := flag.String("nodes-dir", "", "directory holding one directory per node, named like the node; volumes go to <nodes-dir>/<node>/volumes/<pv>")
	name := flag.String("provisioner-name", "local-cluster.flightdeck.t7.io/node-volumes", "the provisioner StorageClasses name")
	flag.Parse()
	logger := klog.Background()
	if *kubeconfig == "" || *nodesDir == "" {
		logger.Error(nil, "--kubeconfig and --nodes-dir are required")
		os.Exit(2)
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		logger.Error(err, "reading the kubeconfig", "path", *kubeconfig)
		os.Exit(1)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		logger.Error(err, "creating the API client")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx = klog.NewContext(ctx, logger)
	volumes := &nodeVolumes{nodesDir: *nodesDir}
	provisioner := controller.NewProvisionController(ctx, client, *name, volumes,
		// One instance per cluster: nothing to elect, and a restart takes over at once.
		controller.LeaderElection(false),
	)
	logger.Info("provisioner starting", "name", *name, "nodesDir", *nodesDir)
	provisioner.Run(ctx)
}
