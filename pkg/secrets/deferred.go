package secrets

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.uber.org/zap"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// StepSealedSecretSeal seals one Secret when the step is applied and
// applies its SealedSecret: what a plan holds for a Secret whose cluster,
// controller or fingerprint key does not exist yet, so that neither a
// certificate nor a fingerprint can be known when planning. Its Action is a
// SealAction: the Secret's references, never a value or a ciphertext.
// Applying it reads the values from the Source (WithSource) and the
// fingerprint key, seals with the certificate (WithCert, else FetchCert)
// and applies the SealedSecret exactly as a sealedsecret.apply step would;
// a SealedSecret that is already current is not written.
const StepSealedSecretSeal = "sealedsecret.seal"

// SealAction is the Action of a sealedsecret.seal step.
type SealAction struct {
	// Secret is the Secret to seal, with the references of its values.
	Secret Secret `json:"secret"`
	// KeyNamespace is the controller's namespace, where the fingerprint key
	// lives.
	KeyNamespace string `json:"keyNamespace"`
}

// SealedWhenApplied is the To of a data key's change in a
// sealedsecret.seal step, after the value's reference.
const SealedWhenApplied = "(sealed when applied)"

// PlanSyncNew returns the plan of Sync for a cluster that does not exist
// yet (or whose controller and fingerprint key do not): the step creating
// the fingerprint key, then a sealedsecret.seal step per Secret of want,
// each data key's change naming its reference ("ref DB_PASSWORD (sealed
// when applied)"). It sends no request and reads no value: no certificate
// or fingerprint is known before the cluster runs its controller, so the
// values are read, fingerprinted and sealed when the steps are applied
// (ApplyStep with WithSource). Bad input fails as in PlanSync.
func PlanSyncNew(env spec.Environment, want []Secret, opts ...Option) (Plan, error) {
	// The Source is only needed when applying: a placeholder satisfies
	// newRun's check and is never called.
	r, err := newRun(Clients{}, SourceFunc(func(context.Context, string) ([]byte, error) {
		return nil, errors.New("PlanSyncNew reads no value")
	}), env, want, opts)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	keyObj := "secret/" + r.ns + "/" + FingerprintKeyName
	ks, err := change.NewStep(FingerprintKeyStepID(r.env.Name, r.ns), change.LayerSecrets, StepFingerprintKeyCreate, change.Create, keyObj,
		FingerprintKeyAction{Namespace: r.ns, Name: FingerprintKeyName},
		change.Change{Layer: change.LayerSecrets, Object: keyObj, Op: change.Create, To: "32 random bytes, made when applied", Sensitive: true})
	if err != nil {
		return p, err
	}
	ks.Env, ks.Creates = r.env.Name, true
	p.Add(ks)
	for _, w := range r.want {
		s, err := sealStep(r.env.Name, r.ns, w)
		if err != nil {
			return p, err
		}
		p.Add(s)
	}
	r.log.Debug("planned the sealed secrets of a new cluster", zap.Int("secrets", len(r.want)))
	return p, nil
}

// SealSteps returns a sealedsecret.seal step for each Secret of want, for
// a composer that plans the fingerprint key's creation otherwise (PlanSync
// on a cluster without the key plans that step alone). It reads nothing.
func SealSteps(env spec.Environment, want []Secret, opts ...Option) ([]change.Step, error) {
	p, err := PlanSyncNew(env, want, opts...)
	if err != nil {
		return nil, err
	}
	var out []change.Step
	for _, s := range p.Steps {
		if s.Kind == StepSealedSecretSeal {
			out = append(out, s)
		}
	}
	return out, nil
}

func sealStep(env, keyNS string, w Secret) (change.Step, error) {
	obj := w.object()
	var changes []change.Change
	for _, k := range slices.Sorted(maps.Keys(w.Data)) {
		changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: fieldKey(k), Op: change.Create,
			To: "ref " + w.Data[k] + " " + SealedWhenApplied})
	}
	s, err := change.NewStep(SealedSecretStepID(env, w.Namespace, w.Name), change.LayerSecrets, StepSealedSecretSeal, change.Create, obj,
		SealAction{Secret: w, KeyNamespace: keyNS}, changes...)
	if err != nil {
		return s, err
	}
	s.Env = env
	return s, nil
}

// applySeal plans one Secret now and applies what that plan holds.
func applySeal(ctx context.Context, kube Clients, s change.Step, opts []Option, o *options, log *zap.Logger) error {
	var a SealAction
	if err := s.Decode(&a); err != nil {
		return err
	}
	if o.source == nil {
		return fmt.Errorf("plan step %s: seals %s when applied, but no Source was given (WithSource)", s.ID, a.Secret.object())
	}
	env := spec.Environment{Name: s.Env}
	env.Secrets.Namespace = a.KeyNamespace
	r, err := newRun(kube, o.source, env, []Secret{a.Secret}, opts)
	if err != nil {
		return fmt.Errorf("plan step %s: %w", s.ID, err)
	}
	p, err := r.plan(ctx)
	if err != nil {
		return fmt.Errorf("plan step %s: %w", s.ID, err)
	}
	if len(p.Steps) == 0 {
		log.Info("sealed secret is current", zap.String("object", s.Object))
	}
	for _, st := range p.Steps {
		if st.Kind == StepFingerprintKeyCreate {
			return fmt.Errorf("plan step %s: the fingerprint key %s/%s does not exist (its step, %s, runs first)", s.ID, r.ns, FingerprintKeyName, FingerprintKeyStepID(s.Env, r.ns))
		}
		if err := applyStep(ctx, kube, st, log); err != nil {
			return err
		}
	}
	return nil
}

// WithSource gives ApplyStep the Source that sealedsecret.seal steps read
// their values from. PlanSync and Sync take theirs as an argument.
func WithSource(src Source) Option {
	return func(o *options) error {
		if src == nil {
			return errors.New("WithSource: nil Source")
		}
		o.source = src
		return nil
	}
}
