package controlplane

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// The stand-in storage: LKE's two Block Storage classes, served by the
// Linode CSI driver, whose name the stand-in provisioner answers to.
const (
	// DefaultStorageClass is LKE's default StorageClass (reclaim Retain).
	DefaultStorageClass = "linode-block-storage-retain"
	// DeleteStorageClass is LKE's other Block Storage class (reclaim Delete).
	DeleteStorageClass = "linode-block-storage"
	// BlockStorageProvisioner is the Linode CSI driver's name.
	BlockStorageProvisioner = "linodebs.csi.linode.com"
	// MinVolumeSize is Linode Block Storage's smallest volume: a smaller
	// claim gets a volume of this size, as LKE gives it.
	MinVolumeSize = "10Gi"
)

// LoadBalancerPrefix is where the stand-in LoadBalancer controller takes
// addresses from: 127.1.0.0/16, one per Service, derived from a hash of
// its namespace and name (the next free one on a collision), so a
// Service gets the same address in every run.
var LoadBalancerPrefix = netip.MustParsePrefix("127.1.0.0/16")

const provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"

// standIns runs the in-process controllers until stop is called.
type standIns struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (s *standIns) stop() {
	s.cancel()
	s.wg.Wait()
}

// startStandIns creates the StorageClasses and starts the LoadBalancer,
// volume and webhook CA controllers, returning once their caches are
// synced; wh's calls are attributed to webhooks from then on.
func startStandIns(ctx context.Context, cs kubernetes.Interface, log *zap.Logger, wh *webhookServer) (*standIns, error) {
	for _, sc := range storageClasses() {
		if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create stand-in StorageClass %s: %w", sc.Name, err)
		}
	}
	// The controllers outlive Start's context: they stop with Stop.
	runCtx, cancel := context.WithCancel(context.Background())
	s := &standIns{cancel: cancel}
	f := informers.NewSharedInformerFactory(cs, 0)
	lb := &lbController{cs: cs, log: log.Named("loadbalancer"), services: f.Core().V1().Services().Lister(), used: map[netip.Addr]string{}, byKey: map[string]netip.Addr{}}
	pv := &volumeController{cs: cs, log: log.Named("volumes"), claims: f.Core().V1().PersistentVolumeClaims().Lister(),
		volumes: f.Core().V1().PersistentVolumes().Lister(), classes: f.Storage().V1().StorageClasses().Lister()}
	inj := &caInjector{cs: cs, log: log.Named("cainjector"), ca: wh.caPEM,
		validating: f.Admissionregistration().V1().ValidatingWebhookConfigurations().Lister(),
		mutating:   f.Admissionregistration().V1().MutatingWebhookConfigurations().Lister()}
	lbQ := newQueue("loadbalancer")
	injQ := newQueue("cainjector")
	claimQ := newQueue("claims")
	volQ := newQueue("volumes")
	for _, h := range []struct {
		inf    cache.SharedIndexInformer
		q      workqueue.TypedRateLimitingInterface[string]
		prefix string
	}{
		{f.Core().V1().Services().Informer(), lbQ, ""},
		{f.Core().V1().PersistentVolumeClaims().Informer(), claimQ, ""},
		{f.Core().V1().PersistentVolumes().Informer(), volQ, ""},
		{f.Admissionregistration().V1().ValidatingWebhookConfigurations().Informer(), injQ, validatingKey},
		{f.Admissionregistration().V1().MutatingWebhookConfigurations().Informer(), injQ, mutatingKey},
	} {
		q, prefix := h.q, h.prefix
		enqueue := func(obj any) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				q.Add(prefix + key)
			}
		}
		if _, err := h.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: enqueue, UpdateFunc: func(_, o any) { enqueue(o) }, DeleteFunc: enqueue,
		}); err != nil {
			cancel()
			return nil, fmt.Errorf("watch for the stand-ins: %w", err)
		}
	}
	f.Start(runCtx.Done())
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			cancel()
			f.Shutdown()
			return nil, fmt.Errorf("sync the stand-ins' cache of %v: %w", typ, ctx.Err())
		}
	}
	for _, w := range []struct {
		q  workqueue.TypedRateLimitingInterface[string]
		fn func(context.Context, string) error
	}{{lbQ, lb.sync}, {claimQ, pv.syncClaim}, {volQ, pv.syncVolume}, {injQ, inj.sync}} {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			work(runCtx, w.q, w.fn, log)
		}()
	}
	wh.setResolver(inj.webhooksAt)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-runCtx.Done()
		lbQ.ShutDown()
		claimQ.ShutDown()
		volQ.ShutDown()
		injQ.ShutDown()
		f.Shutdown()
	}()
	return s, nil
}

func newQueue(name string) workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](20*time.Millisecond, 2*time.Second),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name})
}

// work processes q's keys with fn until q shuts down; a failed key is
// retried with backoff.
func work(ctx context.Context, q workqueue.TypedRateLimitingInterface[string], fn func(context.Context, string) error, log *zap.Logger) {
	for {
		key, quit := q.Get()
		if quit {
			return
		}
		if err := fn(ctx, key); err != nil && ctx.Err() == nil {
			log.Debug("stand-in retries", zap.String("key", key), zap.Error(err))
			q.AddRateLimited(key)
		} else {
			q.Forget(key)
		}
		q.Done(key)
	}
}

// storageClasses are LKE's Block Storage classes.
func storageClasses() []*storagev1.StorageClass {
	mk := func(name string, policy corev1.PersistentVolumeReclaimPolicy, dflt bool) *storagev1.StorageClass {
		sc := &storagev1.StorageClass{
			ObjectMeta:           metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/managed-by": "controlplane-stand-in"}},
			Provisioner:          BlockStorageProvisioner,
			ReclaimPolicy:        ptr.To(policy),
			AllowVolumeExpansion: ptr.To(true),
			VolumeBindingMode:    ptr.To(storagev1.VolumeBindingImmediate),
		}
		if dflt {
			sc.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
		}
		return sc
	}
	return []*storagev1.StorageClass{
		mk(DefaultStorageClass, corev1.PersistentVolumeReclaimRetain, true),
		mk(DeleteStorageClass, corev1.PersistentVolumeReclaimDelete, false),
	}
}

// lbController sets an address on every Service of type LoadBalancer
// without a loadBalancerClass, as LKE's cloud controller manager does when
// its NodeBalancer is up, and clears it when the Service stops being one.
type lbController struct {
	cs       kubernetes.Interface
	log      *zap.Logger
	services corelisters.ServiceLister
	mu       sync.Mutex
	used     map[netip.Addr]string // address → namespace/name
	byKey    map[string]netip.Addr
}

func (c *lbController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key we can act on
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.release(key)
		return nil
	}
	if err != nil {
		return err
	}
	want := svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil
	has := len(svc.Status.LoadBalancer.Ingress) > 0
	switch {
	case want && !has:
		ip := c.assign(key)
		svc = svc.DeepCopy()
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip.String(), IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}
		if _, err := c.cs.CoreV1().Services(ns).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("set LoadBalancer address of Service %s: %w", key, err)
		}
		c.log.Debug("LoadBalancer address set", zap.String("service", key), zap.String("ip", ip.String()))
	case !want && has && svc.Spec.LoadBalancerClass == nil:
		svc = svc.DeepCopy()
		svc.Status.LoadBalancer = corev1.LoadBalancerStatus{}
		if _, err := c.cs.CoreV1().Services(ns).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("clear LoadBalancer address of Service %s: %w", key, err)
		}
		c.release(key)
	}
	return nil
}

// assign returns key's address: the one it has, or the one its hash
// names, or the next free one after it.
func (c *lbController) assign(key string) netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ip, ok := c.byKey[key]; ok {
		return ip
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	base := LoadBalancerPrefix.Addr().As4()
	span := uint32(1) << (32 - LoadBalancerPrefix.Bits())
	off := h.Sum32() % span
	for range span {
		b := base
		n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		n += off
		ip := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		if last := byte(n); last != 0 && last != 255 {
			if _, taken := c.used[ip]; !taken {
				c.used[ip], c.byKey[key] = key, ip
				return ip
			}
		}
		off = (off + 1) % span
	}
	panic("controlplane: LoadBalancer address range exhausted") // 65,536 Services in a test
}

func (c *lbController) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ip, ok := c.byKey[key]; ok {
		delete(c.byKey, key)
		delete(c.used, ip)
	}
}

// volumeController provisions a PersistentVolume for each Pending claim of
// a class whose provisioner is BlockStorageProvisioner, bound in advance
// to the claim (claimRef), so that kube-controller-manager's volume binder
// completes the binding; and deletes the Released volumes it provisioned
// whose reclaim policy is Delete, as the CSI provisioner's sidecar does.
type volumeController struct {
	cs      kubernetes.Interface
	log     *zap.Logger
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
}

func (c *volumeController) syncClaim(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pvc, err := c.claims.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.StorageClassName == nil || pvc.DeletionTimestamp != nil {
		return nil
	}
	sc, err := c.classes.Get(*pvc.Spec.StorageClassName)
	if apierrors.IsNotFound(err) {
		return nil // a class that does not exist: no provisioner acts
	}
	if err != nil {
		return err
	}
	if sc.Provisioner != BlockStorageProvisioner {
		return nil
	}
	pv := volumeFor(pvc, sc)
	if _, err := c.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("provision a volume for claim %s: %w", key, err)
	}
	c.log.Debug("volume provisioned", zap.String("claim", key), zap.String("volume", pv.Name))
	return nil
}

func (c *volumeController) syncVolume(ctx context.Context, name string) error {
	pv, err := c.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
		pv.Annotations[provisionedByAnnotation] != BlockStorageProvisioner {
		return nil
	}
	if err := c.cs.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete released volume %s: %w", name, err)
	}
	return nil
}

// volumeFor returns the volume the stand-in provisions for pvc: at least
// MinVolumeSize, with the claim's access modes and volume mode and the
// class's reclaim policy, bound in advance to the claim.
func volumeFor(pvc *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass) *corev1.PersistentVolume {
	size := resource.MustParse(MinVolumeSize)
	if req, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok && req.Cmp(size) > 0 {
		size = req
	}
	policy := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		policy = *sc.ReclaimPolicy
	}
	name := "pvc-" + string(pvc.UID)
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{provisionedByAnnotation: BlockStorageProvisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   pvc.Spec.AccessModes,
			VolumeMode:                    pvc.Spec.VolumeMode,
			StorageClassName:              sc.Name,
			PersistentVolumeReclaimPolicy: policy,
			ClaimRef: &corev1.ObjectReference{
				APIVersion: "v1", Kind: "PersistentVolumeClaim",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver:       BlockStorageProvisioner,
				VolumeHandle: strings.ReplaceAll(string(pvc.UID), "-", ""),
				FSType:       "ext4",
			}},
		},
	}
}
