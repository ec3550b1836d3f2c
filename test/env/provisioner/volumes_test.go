package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

func claim(modes ...v1.PersistentVolumeAccessMode) *v1.PersistentVolumeClaim {
	return &v1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "data-mariadb-0"},
		Spec: v1.PersistentVolumeClaimSpec{
			AccessModes: modes,
			Resources:   v1.VolumeResourceRequirements{Requests: v1.ResourceList{v1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
}

func options(node string, pvc *v1.PersistentVolumeClaim) controller.ProvisionOptions {
	return controller.ProvisionOptions{StorageClass: &storagev1.StorageClass{}, PVName: "pvc-1234", PVC: pvc, SelectedNodeName: node}
}

func TestProvisionMakesAWritableDirectoryPinnedToTheNode(t *testing.T) {
	nodes := t.TempDir()
	if err := os.Mkdir(filepath.Join(nodes, "node-2"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &nodeVolumes{nodesDir: nodes}
	pv, state, err := p.Provision(context.Background(), options("node-2", claim(v1.ReadWriteOnce)))
	if err != nil || state != controller.ProvisioningFinished {
		t.Fatalf("Provision: %v (%s)", err, state)
	}
	want := filepath.Join(nodes, "node-2", "volumes", "pvc-1234")
	if pv.Spec.Local == nil || pv.Spec.Local.Path != want {
		t.Fatalf("local path %+v, want %s", pv.Spec.Local, want)
	}
	info, err := os.Stat(want)
	if err != nil || info.Mode().Perm() != 0o777 {
		t.Fatalf("directory %s: %v, mode %v", want, err, info.Mode())
	}
	term := pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0]
	if term.Key != "kubernetes.io/hostname" || len(term.Values) != 1 || term.Values[0] != "node-2" {
		t.Fatalf("node affinity %+v", term)
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != v1.PersistentVolumeReclaimDelete {
		t.Fatalf("reclaim policy %s", pv.Spec.PersistentVolumeReclaimPolicy)
	}
	if err := p.Delete(context.Background(), pv); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Delete: %v", want, err)
	}
}

func TestProvisionRefusesWhatANodeLocalVolumeCannotServe(t *testing.T) {
	nodes := t.TempDir()
	p := &nodeVolumes{nodesDir: nodes}
	if _, _, err := p.Provision(context.Background(), options("", claim(v1.ReadWriteOnce))); err == nil {
		t.Error("a claim without a selected node was provisioned")
	}
	if _, _, err := p.Provision(context.Background(), options("node-1", claim(v1.ReadWriteMany))); err == nil {
		t.Error("a ReadWriteMany claim was provisioned")
	}
	if _, state, err := p.Provision(context.Background(), options("node-9", claim(v1.ReadWriteOnce))); err == nil || state != controller.ProvisioningReschedule {
		t.Errorf("a node without a directory: %v (%s), want a reschedule", err, state)
	}
	if _, _, err := p.Provision(context.Background(), options("..", claim(v1.ReadWriteOnce))); err == nil {
		t.Error("node name .. was accepted")
	}
}

func TestDeleteRemovesOnlyVolumeDirectories(t *testing.T) {
	nodes := t.TempDir()
	p := &nodeVolumes{nodesDir: nodes}
	outside := t.TempDir()
	for _, path := range []string{outside, filepath.Join(nodes, "node-1"), filepath.Join(nodes, "node-1", "volumes"), filepath.Join(nodes, "node-1", "volumes", "..", "..", "..")} {
		pv := &v1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pvc-x"}, Spec: v1.PersistentVolumeSpec{PersistentVolumeSource: v1.PersistentVolumeSource{Local: &v1.LocalVolumeSource{Path: path}}}}
		if err := p.Delete(context.Background(), pv); err == nil {
			t.Errorf("Delete accepted %s", path)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("%s was removed: %v", outside, err)
	}
}
