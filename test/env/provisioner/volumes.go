package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

// hostnameLabel is the node label the PersistentVolume's node affinity names.
const hostnameLabel = "kubernetes.io/hostname"

// A node or PersistentVolume name that is safe as one path element: a DNS
// subdomain of Kubernetes without dots at either end, so never "." or "..".
var pathElement = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// volumeMode is the mode of a new volume's directory. World-writable, as
// other node-local provisioners make theirs: a pod that runs as any user
// (MariaDB as uid 999) can write without an fsGroup, and with an fsGroup the
// kubelet gives the group ownership on top (the `local` plugin applies
// fsGroup; hostPath would not).
const volumeMode = 0o777

// nodeVolumes provisions a directory per PersistentVolume under the selected
// node's own directory, <nodesDir>/<node>/volumes/<pv>.
type nodeVolumes struct {
	nodesDir string
}

var _ controller.Provisioner = (*nodeVolumes)(nil)

func (p *nodeVolumes) volumesDir(node string) string {
	return filepath.Join(p.nodesDir, node, "volumes")
}

// unsupportedAccessModes lists what a directory on one node cannot honestly
// offer: pods on other nodes never see it.
var unsupportedAccessModes = map[v1.PersistentVolumeAccessMode]bool{
	v1.ReadWriteMany: true,
	v1.ReadOnlyMany:  true,
}

// Provision creates the directory and returns a `local` PersistentVolume with
// node affinity to the selected node. A claim without a selected node (a
// StorageClass with Immediate binding) is refused: which node's disk would
// hold it is unknown. A node without a directory is not one of this cluster's
// nodes; the scheduler is asked to pick another.
func (p *nodeVolumes) Provision(ctx context.Context, options controller.ProvisionOptions) (*v1.PersistentVolume, controller.ProvisioningState, error) {
	claim := fmt.Sprintf("%s/%s", options.PVC.Namespace, options.PVC.Name)
	node := options.SelectedNodeName
	if node == "" {
		return nil, controller.ProvisioningFinished, fmt.Errorf("claim %s has no selected node: node-local volumes need a StorageClass with volumeBindingMode WaitForFirstConsumer", claim)
	}
	if !pathElement.MatchString(node) || !pathElement.MatchString(options.PVName) {
		return nil, controller.ProvisioningFinished, fmt.Errorf("claim %s: node %q or volume name %q is not a valid path element", claim, node, options.PVName)
	}
	for _, mode := range options.PVC.Spec.AccessModes {
		if unsupportedAccessModes[mode] {
			return nil, controller.ProvisioningFinished, fmt.Errorf("claim %s asks for %s: a node-local volume is only reachable from one node (use ReadWriteOnce or ReadWriteOncePod)", claim, mode)
		}
	}
	if info, err := os.Stat(filepath.Join(p.nodesDir, node)); err != nil || !info.IsDir() {
		return nil, controller.ProvisioningReschedule, fmt.Errorf("claim %s: node %s has no directory under %s (not a node of this cluster?): %v", claim, node, p.nodesDir, err)
	}
	path := filepath.Join(p.volumesDir(node), options.PVName)
	if err := os.MkdirAll(path, volumeMode); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("claim %s: creating %s: %w", claim, path, err)
	}
	// MkdirAll's mode passes through the umask; the directory must end up as stated.
	if err := os.Chmod(path, volumeMode); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("claim %s: chmod %s: %w", claim, path, err)
	}
	reclaim := v1.PersistentVolumeReclaimDelete
	if options.StorageClass.ReclaimPolicy != nil {
		reclaim = *options.StorageClass.ReclaimPolicy
	}
	modes := options.PVC.Spec.AccessModes
	if len(modes) == 0 {
		modes = []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce}
	}
	filesystem := v1.PersistentVolumeFilesystem
	klog.FromContext(ctx).Info("provisioned", "claim", claim, "node", node, "path", path)
	return &v1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: options.PVName},
		Spec: v1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   modes,
			VolumeMode:                    &filesystem,
			MountOptions:                  options.StorageClass.MountOptions,
			// The size is what was asked for; a directory on the shared disk does not enforce it.
			Capacity: v1.ResourceList{v1.ResourceStorage: options.PVC.Spec.Resources.Requests[v1.ResourceStorage]},
			PersistentVolumeSource: v1.PersistentVolumeSource{
				Local: &v1.LocalVolumeSource{Path: path},
			},
			NodeAffinity: &v1.VolumeNodeAffinity{
				Required: &v1.NodeSelector{
					NodeSelectorTerms: []v1.NodeSelectorTerm{{
						MatchExpressions: []v1.NodeSelectorRequirement{{Key: hostnameLabel, Operator: v1.NodeSelectorOpIn, Values: []string{node}}},
					}},
				},
			},
		},
	}, controller.ProvisioningFinished, nil
}

// Delete removes the volume's directory, refusing any path that is not a
// volume directory of one of the nodes (a PersistentVolume edited by hand
// must not make it remove something else). A directory already gone is fine.
func (p *nodeVolumes) Delete(ctx context.Context, volume *v1.PersistentVolume) error {
	if volume.Spec.Local == nil {
		return &controller.IgnoredError{Reason: fmt.Sprintf("PersistentVolume %s has no local source", volume.Name)}
	}
	path := filepath.Clean(volume.Spec.Local.Path)
	relative, err := filepath.Rel(p.nodesDir, path)
	if err != nil {
		return fmt.Errorf("PersistentVolume %s: path %s is not under %s: %w", volume.Name, path, p.nodesDir, err)
	}
	parts := strings.Split(relative, string(filepath.Separator))
	if len(parts) != 3 || !pathElement.MatchString(parts[0]) || parts[1] != "volumes" || !pathElement.MatchString(parts[2]) {
		return fmt.Errorf("PersistentVolume %s: refusing to remove %s: not <nodes-dir>/<node>/volumes/<volume>", volume.Name, path)
	}
	if err := os.RemoveAll(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("PersistentVolume %s: removing %s: %w", volume.Name, path, err)
	}
	klog.FromContext(ctx).Info("deleted", "volume", volume.Name, "path", path)
	return nil
}
