package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// root is the repository root; chart the chart's folder in it.
const (
	root  = ".."
	chart = "deploy/helm/pipeline"
)

// allOptions turns every option of the chart on.
const allOptions = "deploy/testdata/all-options.yaml"

// helm runs the Helm 4 CLI pinned in go.mod (go tool helm) in the
// repository root, with its cache and configuration in a temporary folder
// so that it reads no repository index and writes nothing outside it.
func helm(t *testing.T, args ...string) (stdout []byte, err error) {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute) // the first run may compile helm
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"tool", "helm"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, out.Bytes(), errOut.Bytes())
	}
	return out.Bytes(), nil
}

// render runs helm template with the values files given.
func render(t *testing.T, values ...string) []byte {
	t.Helper()
	args := []string{"template", "rel", chart, "--namespace", "scoring"}
	for _, v := range values {
		args = append(args, "--values", v)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An object is one rendered manifest, decoded into its Go type.
type object struct {
	source string // helm's "# Source:" comment
	kind   string
	name   string
	obj    any
}

// types maps apiVersion/kind to the Go type every rendered object must
// decode into; a kind missing here is an error.
var types = map[string]func() any{
	"v1/Service":                             func() any { return new(corev1.Service) },
	"v1/ServiceAccount":                      func() any { return new(corev1.ServiceAccount) },
	"v1/Secret":                              func() any { return new(corev1.Secret) },
	"v1/ConfigMap":                           func() any { return new(corev1.ConfigMap) },
	"apps/v1/Deployment":                     func() any { return new(appsv1.Deployment) },
	"batch/v1/Job":                           func() any { return new(batchv1.Job) },
	"batch/v1/CronJob":                       func() any { return new(batchv1.CronJob) },
	"policy/v1/PodDisruptionBudget":          func() any { return new(policyv1.PodDisruptionBudget) },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return new(networkingv1.NetworkPolicy) },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any {
		return new(monitoringv1.ServiceMonitor)
	},
	"monitoring.coreos.com/v1/PrometheusRule": func() any {
		return new(monitoringv1.PrometheusRule)
	},
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeAll splits helm's output into documents and decodes each strictly:
// an unknown or misplaced field, a duplicate key or an unknown kind is an
// error naming the template it came from.
func decodeAll(manifest []byte) ([]object, error) {
	var objs []object
	for _, doc := range docSep.Split(string(manifest), -1) {
		source := ""
		if m := regexp.MustCompile(`(?m)^# Source: (\S+)`).FindStringSubmatch(doc); m != nil {
			source = m[1]
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if tm.Kind == "" && tm.APIVersion == "" {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) != "" {
				return nil, fmt.Errorf("%s: a document without apiVersion and kind", source)
			}
			continue
		}
		newObj, ok := types[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			return nil, fmt.Errorf("%s: %s %s: no Go type to check it against", source, tm.APIVersion, tm.Kind)
		}
		obj := newObj()
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", source, tm.Kind, err)
		}
		name := obj.(metav1.Object).GetName()
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return nil, fmt.Errorf("%s: %s name %q: %v", source, tm.Kind, name, errs)
		}
		objs = append(objs, object{source: source, kind: tm.Kind, name: name, obj: obj})
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no objects rendered")
	}
	return objs, nil
}

func only[T any](objs []object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// serveCLI is what the pipeline binary built from this module says about
// itself: its commands, serve's flags and environment variables, and the
// endpoints serve's help lists by method.
type serveCLI struct {
	commands  []string
	flags     []string
	env       []string
	endpoints map[string]string // path -> method
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// build compiles pipeline and cmd/mkmodel once per test binary.
func build(t *testing.T) (pipeline, mkmodel string) {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "deploy-test-")
		if binErr != nil {
			return
		}
		for _, pkg := range []string{"./pipeline", "./cmd/mkmodel"} {
			cmd := exec.Command("go", "build", "-o", binDir+"/", pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "pipeline"), filepath.Join(binDir, "mkmodel")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func readCLI(t *testing.T) serveCLI {
	t.Helper()
	bin, _ := build(t)
	run := func(args ...string) string {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("pipeline %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	top, help := run("--help"), run("serve", "--help")
	var cli serveCLI
	commands, _, _ := strings.Cut(top[strings.Index(top, "COMMANDS:"):], "GLOBAL OPTIONS:")
	for _, m := range regexp.MustCompile(`(?m)^\s{3}([a-z]+)[ ,]`).FindAllStringSubmatch(commands, -1) {
		cli.commands = append(cli.commands, m[1])
	}
	desc, opts, ok := strings.Cut(help, "OPTIONS:")
	if !ok {
		t.Fatalf("pipeline serve --help has no OPTIONS section:\n%s", help)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(opts, -1) {
		cli.flags = append(cli.flags, m[1])
	}
	for _, m := range regexp.MustCompile(`\$(PIPELINE_SERVE_[A-Z0-9_]+)`).FindAllStringSubmatch(opts, -1) {
		cli.env = append(cli.env, m[1])
	}
	cli.endpoints = map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(GET|POST)\s+(.*)$`).FindAllStringSubmatch(desc, -1) {
		for _, p := range regexp.MustCompile(`(?:^|\s)(/[a-z0-9/_-]+)`).FindAllStringSubmatch(m[2], -1) {
			cli.endpoints[p[1]] = m[1]
		}
	}
	// The help is what these checks trust: it must list what serve is
	// known to have, or the parsing above has gone wrong.
	for _, want := range []string{"serve", "train", "promote"} {
		if !slices.Contains(cli.commands, want) {
			t.Fatalf("pipeline --help: no command %q among %v", want, cli.commands)
		}
	}
	if !slices.Contains(cli.flags, "addr") || !slices.Contains(cli.env, "PIPELINE_SERVE_ADDR") {
		t.Fatalf("pipeline serve --help: no --addr / $PIPELINE_SERVE_ADDR among %v %v", cli.flags, cli.env)
	}
	if cli.endpoints["/health"] != "GET" || cli.endpoints["/predict"] != "POST" {
		t.Fatalf("pipeline serve --help: endpoints %v lack GET /health or POST /predict", cli.endpoints)
	}
	return cli
}

// A check looks at every rendered object and reports each problem.
type check struct {
	name string
	fn   func(objs []object, cli serveCLI) []string
}

var checks = []check{
	{"pods", checkPods},
	{"serve", checkServe},
	{"selectors", checkSelectors},
	{"autoscaling", checkAutoscaling},
	{"monitoring", checkMonitoring},
	{"alert rules", checkRules},
	{"secrets", checkSecrets},
}

// runChecks returns every check's problems, prefixed by the check's name.
func runChecks(objs []object, cli serveCLI) []string {
	var problems []string
	for _, c := range checks {
		for _, p := range c.fn(objs, cli) {
			problems = append(problems, c.name+": "+p)
		}
	}
	return problems
}

// podTemplates returns every pod template with the name of its owner.
func podTemplates(objs []object) map[string]*corev1.PodTemplateSpec {
	out := map[string]*corev1.PodTemplateSpec{}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			out["Deployment "+o.name] = &v.Spec.Template
		case *batchv1.Job:
			out["Job "+o.name] = &v.Spec.Template
		case *batchv1.CronJob:
			out["CronJob "+o.name] = &v.Spec.JobTemplate.Spec.Template
		}
	}
	return out
}

// checkPods: every pod runs non-root with a numeric user, seccomp
// RuntimeDefault, no service-account token, a read-only root file system
// with an emptyDir at /tmp, no added capabilities, resources set, and a
// pipeline command the binary has.
func checkPods(objs []object, cli serveCLI) []string {
	var p []string
	pods := podTemplates(objs)
	if len(pods) == 0 {
		p = append(p, "no pod templates rendered")
	}
	for owner, tpl := range pods {
		spec := tpl.Spec
		psc := spec.SecurityContext
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			p = append(p, owner+": automountServiceAccountToken is not false")
		}
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			p = append(p, owner+": pod securityContext lacks runAsNonRoot true and a numeric non-zero runAsUser")
		}
		if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			p = append(p, owner+": pod seccompProfile is not RuntimeDefault")
		}
		emptyDirs := map[string]bool{}
		for _, v := range spec.Volumes {
			if v.EmptyDir != nil {
				emptyDirs[v.Name] = true
			}
		}
		containers := append(slices.Clone(spec.InitContainers), spec.Containers...)
		if len(containers) == 0 {
			p = append(p, owner+": no containers")
		}
		for _, c := range containers {
			where := owner + " container " + c.Name
			for _, list := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if q, ok := list[r]; !ok || q.IsZero() {
						p = append(p, fmt.Sprintf("%s: resources lack %s requests and limits", where, r))
					}
				}
			}
			for r, lim := range c.Resources.Limits {
				if req, ok := c.Resources.Requests[r]; ok && req.Cmp(lim) > 0 {
					p = append(p, fmt.Sprintf("%s: %s request %s above its limit %s", where, r, req.String(), lim.String()))
				}
			}
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				p = append(p, where+": root file system is not read-only")
			}
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				p = append(p, where+": allowPrivilegeEscalation is not false")
			}
			if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				p = append(p, where+": capabilities are not drop [ALL]")
			}
			if sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
				p = append(p, where+": runs as user 0")
			}
			if sc != nil && sc.Privileged != nil && *sc.Privileged {
				p = append(p, where+": privileged")
			}
			tmp := false
			for _, m := range c.VolumeMounts {
				if m.MountPath == "/tmp" && emptyDirs[m.Name] && !m.ReadOnly {
					tmp = true
				}
			}
			if !tmp {
				p = append(p, where+": no writable emptyDir at /tmp (downloads and temporary files)")
			}
			if len(c.Command) > 0 {
				p = append(p, where+": overrides the image's entrypoint with command "+strings.Join(c.Command, " "))
			}
			if len(c.Args) == 0 || !slices.Contains(cli.commands, c.Args[0]) {
				p = append(p, fmt.Sprintf("%s: args %q do not start with a pipeline command (%v)", where, c.Args, cli.commands))
			}
		}
	}
	return p
}

// serveContainer returns the Deployment and its serve container.
func serveContainer(objs []object) (*appsv1.Deployment, *corev1.Container, error) {
	ds := only[*appsv1.Deployment](objs)
	if len(ds) != 1 {
		return nil, nil, fmt.Errorf("%d Deployments rendered, want 1", len(ds))
	}
	for i := range ds[0].Spec.Template.Spec.Containers {
		if c := &ds[0].Spec.Template.Spec.Containers[i]; c.Name == "serve" {
			return ds[0], c, nil
		}
	}
	return nil, nil, fmt.Errorf("Deployment %s has no container serve", ds[0].Name)
}

// flagValue returns the value of --name=value or --name value in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// containerPort resolves a probe's or Service's port (a number or a name)
// to the container's port number; 0 when it names no port of c.
func containerPort(c *corev1.Container, port intstr.IntOrString) int32 {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort
		}
	}
	return 0
}

// checkServe: serve's command line uses only flags and variables the
// binary has, listens on the container port, and its probes ask real GET
// endpoints on that port: readiness /ready, liveness /health, and a
// startup probe covering the first download; rolling updates never take a
// ready replica away first.
func checkServe(objs []object, cli serveCLI) []string {
	d, c, err := serveContainer(objs)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		p = append(p, fmt.Sprintf("container serve runs %q, not pipeline serve", c.Args))
	}
	for _, a := range c.Args[min(1, len(c.Args)):] {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !slices.Contains(cli.flags, name) {
				p = append(p, fmt.Sprintf("serve has no flag --%s", name))
			}
		}
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "PIPELINE_SERVE_") && !slices.Contains(cli.env, e.Name) {
			p = append(p, fmt.Sprintf("serve reads no variable %s", e.Name))
		}
	}
	addr, ok := flagValue(c.Args, "addr")
	if !ok {
		p = append(p, "serve runs without --addr")
	}
	http := containerPort(c, intstr.FromString("http"))
	if _, port, _ := strings.Cut(addr, ":"); port != fmt.Sprint(http) || http == 0 {
		p = append(p, fmt.Sprintf("serve listens on %q but the container port http is %d", addr, http))
	}
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"readiness", c.ReadinessProbe, "/ready"},
		{"liveness", c.LivenessProbe, "/health"},
		{"startup", c.StartupProbe, ""},
	} {
		if pr.probe == nil || pr.probe.HTTPGet == nil {
			p = append(p, pr.name+" probe: not an HTTP GET")
			continue
		}
		g := pr.probe.HTTPGet
		if pr.path != "" && g.Path != pr.path {
			p = append(p, fmt.Sprintf("%s probe: path %s, want %s", pr.name, g.Path, pr.path))
		}
		if cli.endpoints[g.Path] != "GET" {
			p = append(p, fmt.Sprintf("%s probe: serve has no GET %s (%v)", pr.name, g.Path, cli.endpoints))
		}
		if got := containerPort(c, g.Port); got == 0 || got != http {
			p = append(p, fmt.Sprintf("%s probe: port %s is not serve's port %d", pr.name, g.Port.String(), http))
		}
	}
	if sp := c.StartupProbe; sp != nil && sp.PeriodSeconds*sp.FailureThreshold < 60 {
		p = append(p, fmt.Sprintf("startup probe allows %d s for the first model download, want at least 60", sp.PeriodSeconds*sp.FailureThreshold))
	}
	if s := d.Spec.Strategy; s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil ||
		s.RollingUpdate.MaxUnavailable == nil || s.RollingUpdate.MaxUnavailable.String() != "0" {
		p = append(p, fmt.Sprintf("Deployment strategy %+v: want RollingUpdate with maxUnavailable 0", s))
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		p = append(p, "no preStop sleep: endpoints may still route to a draining pod")
	}
	// Secrets mounted as files: each *_FILE variable names a file on a
	// read-only mount of a Secret volume.
	secretVols := map[string]bool{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			secretVols[v.Name] = true
		}
	}
	for _, e := range c.Env {
		if !strings.HasSuffix(e.Name, "_FILE") {
			continue
		}
		onSecret := false
		for _, m := range c.VolumeMounts {
			if secretVols[m.Name] && m.ReadOnly && strings.HasPrefix(e.Value, m.MountPath+"/") {
				onSecret = true
			}
		}
		if !onSecret {
			p = append(p, fmt.Sprintf("%s=%s is not on a read-only Secret mount", e.Name, e.Value))
		}
	}
	return p
}

// checkSelectors: the Service, PodDisruptionBudget and NetworkPolicy select
// serve's pods (and only the Deployment's), and the Service sends its port
// to serve's.
func checkSelectors(objs []object, _ serveCLI) []string {
	d, c, err := serveContainer(objs)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	podLabels := labels.Set(d.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		p = append(p, "the Deployment's selector does not match its pods")
	}
	for _, pt := range podTemplates(objs) {
		if pt != &d.Spec.Template && sel.Matches(labels.Set(pt.Labels)) {
			p = append(p, "a job's pods match serve's selector (the Service would send them traffic)")
		}
	}
	svcs := only[*corev1.Service](objs)
	if len(svcs) != 1 {
		p = append(p, fmt.Sprintf("%d Services rendered, want 1", len(svcs)))
	}
	for _, s := range svcs {
		if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			p = append(p, "Service "+s.Name+" does not select serve's pods")
		}
		for _, sp := range s.Spec.Ports {
			if containerPort(c, sp.TargetPort) == 0 {
				p = append(p, fmt.Sprintf("Service port %s targets %s, not a port of serve", sp.Name, sp.TargetPort.String()))
			}
		}
	}
	for _, pdb := range only[*policyv1.PodDisruptionBudget](objs) {
		if s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || !s.Matches(podLabels) {
			p = append(p, "PodDisruptionBudget does not select serve's pods")
		}
	}
	for _, np := range only[*networkingv1.NetworkPolicy](objs) {
		if s, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err != nil || !s.Matches(podLabels) {
			p = append(p, "NetworkPolicy does not select serve's pods")
		}
		for _, in := range np.Spec.Ingress {
			for _, port := range in.Ports {
				if port.Port == nil || containerPort(c, *port.Port) == 0 {
					p = append(p, "NetworkPolicy admits a port that is not serve's")
				}
			}
		}
	}
	return p
}

// adapterMetric reads the metric name Prometheus Adapter serves and the
// series it derives it from (deploy/prometheus-adapter/values.yaml).
func adapterMetric() (name, series string, err error) {
	data, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus-adapter", "values.yaml"))
	if err != nil {
		return "", "", err
	}
	var v struct {
		Rules struct {
			Default bool `json:"default"`
			Custom  []struct {
				SeriesQuery string `json:"seriesQuery"`
				Resources   struct {
					Overrides map[string]struct {
						Resource string `json:"resource"`
					} `json:"overrides"`
				} `json:"resources"`
				Name struct {
					Matches string `json:"matches"`
					As      string `json:"as"`
				} `json:"name"`
				MetricsQuery string `json:"metricsQuery"`
			} `json:"custom"`
		} `json:"rules"`
	}
	if err := yaml.UnmarshalStrict(data, &v); err != nil {
		return "", "", fmt.Errorf("deploy/prometheus-adapter/values.yaml: %w", err)
	}
	if len(v.Rules.Custom) != 1 {
		return "", "", fmt.Errorf("deploy/prometheus-adapter/values.yaml: %d custom rules, want 1", len(v.Rules.Custom))
	}
	r := v.Rules.Custom[0]
	m := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\{`).FindStringSubmatch(r.SeriesQuery)
	if m == nil || !strings.Contains(r.MetricsQuery, "rate(") || r.Resources.Overrides["pod"].Resource != "pod" {
		return "", "", fmt.Errorf("deploy/prometheus-adapter/values.yaml: want a per-pod rate of one series, got %+v", r)
	}
	return r.Name.As, m[1], nil
}

// checkAutoscaling: the HPA scales the Deployment on CPU, and on the
// request rate only under the name Prometheus Adapter serves it as, derived
// from a counter serve exports.
func checkAutoscaling(objs []object, _ serveCLI) []string {
	var p []string
	d, _, err := serveContainer(objs)
	if err != nil {
		return []string{err.Error()}
	}
	for _, h := range only[*autoscalingv2.HorizontalPodAutoscaler](objs) {
		if ref := h.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != d.Name || ref.APIVersion != "apps/v1" {
			p = append(p, fmt.Sprintf("HPA scales %+v, not Deployment %s", ref, d.Name))
		}
		if d.Spec.Replicas != nil {
			p = append(p, "the Deployment sets replicas while an HPA scales it (every upgrade would reset the count)")
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			p = append(p, "HPA min/max replicas out of order or below 2")
		}
		cpu := false
		for _, m := range h.Spec.Metrics {
			switch m.Type {
			case autoscalingv2.ResourceMetricSourceType:
				cpu = cpu || m.Resource.Name == corev1.ResourceCPU
			case autoscalingv2.PodsMetricSourceType:
				name, series, err := adapterMetric()
				if err != nil {
					p = append(p, err.Error())
				} else if m.Pods.Metric.Name != name {
					p = append(p, fmt.Sprintf("HPA asks for pods metric %s, Prometheus Adapter serves %s", m.Pods.Metric.Name, name))
				} else if !metricExported(series) {
					p = append(p, fmt.Sprintf("Prometheus Adapter derives %s from %s, which serve/metrics.go does not define", name, series))
				}
			default:
				p = append(p, "HPA metric of type "+string(m.Type))
			}
		}
		if !cpu {
			p = append(p, "HPA does not scale on CPU")
		}
	}
	return p
}

// metricExported reports whether serve defines the metric (TestServeAnswers
// also sees it on a running serve's /metrics).
func metricExported(name string) bool {
	src, err := os.ReadFile(filepath.Join(root, "serve", "metrics.go"))
	return err == nil && bytes.Contains(src, []byte(`Name: "`+name+`"`))
}

// checkMonitoring: the ServiceMonitor scrapes serve's GET /metrics through
// a port of the Service it selects, as job "serve" (the name the alert
// rules and the dashboard match on).
func checkMonitoring(objs []object, cli serveCLI) []string {
	var p []string
	for _, sm := range only[*monitoringv1.ServiceMonitor](objs) {
		var svc *corev1.Service
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		for _, s := range only[*corev1.Service](objs) {
			if err == nil && sel.Matches(labels.Set(s.Labels)) {
				svc = s
			}
		}
		if svc == nil {
			p = append(p, "ServiceMonitor selects no Service")
			continue
		}
		if job := svc.Labels[sm.Spec.JobLabel]; job != "serve" {
			p = append(p, fmt.Sprintf("ServiceMonitor jobLabel %q gives job %q, the alert rules match job=\"serve\"", sm.Spec.JobLabel, job))
		}
		if len(sm.Spec.Endpoints) == 0 {
			p = append(p, "ServiceMonitor has no endpoints")
		}
		for _, e := range sm.Spec.Endpoints {
			if cli.endpoints[e.Path] != "GET" || e.Path != "/metrics" {
				p = append(p, fmt.Sprintf("ServiceMonitor scrapes %q, serve exports GET /metrics", e.Path))
			}
			if !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == e.Port }) {
				p = append(p, fmt.Sprintf("ServiceMonitor port %q is not a port of Service %s", e.Port, svc.Name))
			}
		}
	}
	return p
}

// rulesFile is the alert rules compose and the native stack load.
const rulesFile = "configs/prometheus/rules/pipeline.yml"

// checkRules: a PrometheusRule carries exactly the rules of rulesFile.
func checkRules(objs []object, _ serveCLI) []string {
	data, err := os.ReadFile(filepath.Join(root, rulesFile))
	if err != nil {
		return []string{err.Error()}
	}
	var want monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(data, &want); err != nil {
		return []string{rulesFile + ": " + err.Error()}
	}
	if len(want.Groups) == 0 {
		return []string{rulesFile + ": no rule groups"}
	}
	var p []string
	for _, pr := range only[*monitoringv1.PrometheusRule](objs) {
		got, _ := yaml.Marshal(pr.Spec)
		exp, _ := yaml.Marshal(want)
		if !bytes.Equal(got, exp) {
			p = append(p, fmt.Sprintf("PrometheusRule %s differs from %s:\n--- chart\n%s\n--- %s\n%s", pr.Name, rulesFile, got, rulesFile, exp))
		}
	}
	return p
}

var secretName = regexp.MustCompile(`(?i)password|secret|token|access_key|credential`)

// checkSecrets: the chart creates no Secret and puts no secret value in
// an environment variable; credentials come from existing Secrets.
func checkSecrets(objs []object, _ serveCLI) []string {
	var p []string
	for _, o := range objs {
		if o.kind == "Secret" || o.kind == "ConfigMap" {
			p = append(p, fmt.Sprintf("%s %s rendered: the chart references existing Secrets by name", o.kind, o.name))
		}
	}
	for owner, tpl := range podTemplates(objs) {
		for _, c := range tpl.Spec.Containers {
			for _, e := range c.Env {
				if secretName.MatchString(e.Name) && !strings.HasSuffix(e.Name, "_FILE") &&
					(e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.Value != "") {
					p = append(p, fmt.Sprintf("%s container %s: %s is not taken from a Secret", owner, c.Name, e.Name))
				}
			}
		}
	}
	return p
}

func kinds(objs []object) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.kind)
	}
	slices.Sort(ks)
	return ks
}

// TestChart lints and renders the chart with its defaults and with every
// option on, and runs every check on the objects.
func TestChart(t *testing.T) {
	cli := readCLI(t)
	for _, tt := range []struct {
		name   string
		values []string
		kinds  []string
	}{
		{"defaults", nil, []string{"Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"}},
		{"all options", []string{allOptions}, []string{"CronJob", "Deployment", "HorizontalPodAutoscaler",
			"Job", "Job", "NetworkPolicy", "PodDisruptionBudget", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"lint", "--strict", chart}
			for _, v := range tt.values {
				args = append(args, "--values", v)
			}
			out, err := helm(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(out, []byte("1 chart(s) linted, 0 chart(s) failed")) {
				t.Fatalf("helm lint --strict:\n%s", out)
			}
			objs, err := decodeAll(render(t, tt.values...))
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(objs); !slices.Equal(got, tt.kinds) {
				t.Errorf("rendered kinds %v, want %v", got, tt.kinds)
			}
			for _, p := range runChecks(objs, cli) {
				t.Error(p)
			}
		})
	}
}

// TestChecksCatch shows that each check fails: a render with one thing
// broken must be reported by the check named.
func TestChecksCatch(t *testing.T) {
	cli := readCLI(t)
	manifest := render(t, allOptions)
	serve := func(objs []object) *corev1.Container { _, c, _ := serveContainer(objs); return c }
	job := func(objs []object) *corev1.Container {
		return &only[*batchv1.CronJob](objs)[0].Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	}
	for _, tt := range []struct {
		name   string
		break_ func(objs []object) []object
		want   string
	}{
		{"readiness path", func(o []object) []object { serve(o).ReadinessProbe.HTTPGet.Path = "/readyz"; return o }, "serve: readiness probe: path /readyz"},
		{"liveness on an endpoint serve lacks", func(o []object) []object {
			serve(o).LivenessProbe.HTTPGet.Path = "/healthz"
			return o
		}, "serve: liveness probe: serve has no GET /healthz"},
		{"probe port", func(o []object) []object { serve(o).StartupProbe.HTTPGet.Port = intstr.FromInt32(9090); return o }, "serve: startup probe: port 9090"},
		{"container port", func(o []object) []object { serve(o).Ports[0].ContainerPort = 9000; return o }, "serve: serve listens on \":8080\" but the container port http is 9000"},
		{"unknown flag", func(o []object) []object { c := serve(o); c.Args = append(c.Args, "--pol=1s"); return o }, "serve: serve has no flag --pol"},
		{"unknown variable", func(o []object) []object {
			c := serve(o)
			c.Env = append(c.Env, corev1.EnvVar{Name: "PIPELINE_SERVE_POLLING", Value: "1s"})
			return o
		}, "serve: serve reads no variable PIPELINE_SERVE_POLLING"},
		{"maxUnavailable", func(o []object) []object {
			d, _, _ := serveContainer(o)
			one := intstr.FromInt32(1)
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = &one
			return o
		}, "serve: Deployment strategy"},
		{"short startup", func(o []object) []object { serve(o).StartupProbe.FailureThreshold = 2; return o }, "allows 10 s for the first model download"},
		{"no limits", func(o []object) []object { job(o).Resources.Limits = nil; return o }, "pods: CronJob rel-pipeline-promote container promote: resources lack cpu requests and limits"},
		{"root", func(o []object) []object {
			zero := int64(0)
			job(o).SecurityContext.RunAsUser = &zero
			return o
		}, "runs as user 0"},
		{"writable root", func(o []object) []object { f := false; serve(o).SecurityContext.ReadOnlyRootFilesystem = &f; return o }, "container serve: root file system is not read-only"},
		{"token", func(o []object) []object {
			d, _, _ := serveContainer(o)
			tr := true
			d.Spec.Template.Spec.AutomountServiceAccountToken = &tr
			return o
		}, "automountServiceAccountToken is not false"},
		{"seccomp", func(o []object) []object {
			only[*batchv1.Job](o)[0].Spec.Template.Spec.SecurityContext.SeccompProfile = nil
			return o
		}, "pod seccompProfile is not RuntimeDefault"},
		{"no /tmp", func(o []object) []object { job(o).VolumeMounts = nil; return o }, "no writable emptyDir at /tmp"},
		{"job command", func(o []object) []object { job(o).Args[0] = "promot"; return o }, "do not start with a pipeline command"},
		{"service target", func(o []object) []object {
			only[*corev1.Service](o)[0].Spec.Ports[0].TargetPort = intstr.FromString("web")
			return o
		}, "selectors: Service port http targets web"},
		{"service selector", func(o []object) []object {
			only[*corev1.Service](o)[0].Spec.Selector["app.kubernetes.io/component"] = "server"
			return o
		}, "does not select serve's pods"},
		{"pdb selector", func(o []object) []object {
			only[*policyv1.PodDisruptionBudget](o)[0].Spec.Selector.MatchLabels["app.kubernetes.io/instance"] = "other"
			return o
		}, "PodDisruptionBudget does not select serve's pods"},
		{"job in service", func(o []object) []object {
			job(o) // the CronJob's pods get serve's labels
			only[*batchv1.CronJob](o)[0].Spec.JobTemplate.Spec.Template.Labels["app.kubernetes.io/component"] = "serve"
			return o
		}, "a job's pods match serve's selector"},
		{"hpa target", func(o []object) []object {
			only[*autoscalingv2.HorizontalPodAutoscaler](o)[0].Spec.ScaleTargetRef.Name = "other"
			return o
		}, "autoscaling: HPA scales"},
		{"hpa metric", func(o []object) []object {
			h := only[*autoscalingv2.HorizontalPodAutoscaler](o)[0]
			h.Spec.Metrics[1].Pods.Metric.Name = "http_requests_per_second"
			return o
		}, "HPA asks for pods metric http_requests_per_second"},
		{"scrape path", func(o []object) []object {
			only[*monitoringv1.ServiceMonitor](o)[0].Spec.Endpoints[0].Path = "/metric"
			return o
		}, "monitoring: ServiceMonitor scrapes \"/metric\""},
		{"job label", func(o []object) []object {
			only[*monitoringv1.ServiceMonitor](o)[0].Spec.JobLabel = "app.kubernetes.io/name"
			return o
		}, "gives job \"pipeline\""},
		{"changed rule", func(o []object) []object {
			pr := only[*monitoringv1.PrometheusRule](o)[0]
			pr.Spec.Groups[0].Rules[0].Expr = intstr.FromString(`up{job="serve"} == 2`)
			return o
		}, "alert rules: PrometheusRule rel-pipeline differs"},
		{"dropped rule", func(o []object) []object {
			pr := only[*monitoringv1.PrometheusRule](o)[0]
			pr.Spec.Groups[1].Rules = nil
			return o
		}, "alert rules: PrometheusRule rel-pipeline differs"},
		{"inline secret", func(o []object) []object {
			c := job(o)
			for i := range c.Env {
				if c.Env[i].Name == "AWS_SECRET_ACCESS_KEY" {
					c.Env[i] = corev1.EnvVar{Name: "AWS_SECRET_ACCESS_KEY", Value: "minioadmin"}
				}
			}
			return o
		}, "secrets: CronJob rel-pipeline-promote container promote: AWS_SECRET_ACCESS_KEY is not taken from a Secret"},
		{"secret object", func(o []object) []object {
			return append(o, object{kind: "Secret", name: "creds", obj: &corev1.Secret{}})
		}, "secrets: Secret creds rendered"},
		{"admin token off its mount", func(o []object) []object {
			c := serve(o)
			for i := range c.Env {
				if c.Env[i].Name == "PIPELINE_SERVE_ADMIN_TOKEN_FILE" {
					c.Env[i].Value = "/tmp/token"
				}
			}
			return o
		}, "PIPELINE_SERVE_ADMIN_TOKEN_FILE=/tmp/token is not on a read-only Secret mount"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := decodeAll(manifest)
			if err != nil {
				t.Fatal(err)
			}
			if p := runChecks(objs, cli); len(p) > 0 {
				t.Fatalf("the unbroken render has problems: %v", p)
			}
			p := runChecks(tt.break_(objs), cli)
			if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("no problem %q reported; got %q", tt.want, p)
			}
		})
	}
}

// TestDecodeStrict: a field the API type lacks, a duplicate key or an
// unknown kind fails the decoding of a rendered manifest.
func TestDecodeStrict(t *testing.T) {
	good := render(t)
	if _, err := decodeAll(good); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, old, new, want string }{
		{"unknown field", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  replica: 3\n", `unknown field "replica"`},
		{"misplaced field", "          imagePullPolicy:", "          readinessGates: []\n          imagePullPolicy:", `unknown field "readinessGates"`},
		{"duplicate key", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  revisionHistoryLimit: 6\n", `key "revisionHistoryLimit" already set`},
		{"wrong type", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: five\n", "revisionHistoryLimit"},
		{"unknown kind", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgets", "no Go type"},
		{"bad name", "name: rel-pipeline\n", "name: Rel_Pipeline\n", "Rel_Pipeline"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(good, []byte(tt.old)) {
				t.Fatalf("the render has no %q to break", tt.old)
			}
			_, err := decodeAll(bytes.Replace(good, []byte(tt.old), []byte(tt.new), 1))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestBadValuesRejected: values.schema.json turns bad values into an error
// at helm install (helm template and lint apply the same schema).
func TestBadValuesRejected(t *testing.T) {
	for _, tt := range []struct{ name, values, want string }{
		{"typo", "serve:\n  replicaz: 3\n", "additional properties 'replicaz' not allowed"},
		{"replicas as text", "serve:\n  replicas: two\n", "/serve/replicas"},
		{"zero replicas", "serve:\n  replicas: 0\n", "/serve/replicas"},
		{"digest", "image:\n  digest: latest\n", "/image/digest"},
		{"privileged port", "serve:\n  port: 80\n", "/serve/port"},
		{"bad poll", "serve:\n  poll: 10 seconds\n", "/serve/poll"},
		{"log level", "serve:\n  logLevel: verbose\n", "/serve/logLevel"},
		{"threshold", "serve:\n  threshold: 1.5\n", "/serve/threshold"},
		{"limits missing", "serve:\n  resources:\n    limits: null\n", "/serve/resources"},
		{"root user", "podSecurityContext:\n  runAsUser: 0\n", "/podSecurityContext/runAsUser"},
		{"root allowed", "podSecurityContext:\n  runAsNonRoot: false\n", "/podSecurityContext/runAsNonRoot"},
		{"inline password", "mlflow:\n  password: hunter2\n", "additional properties 'password' not allowed"},
		{"inline s3 key", "s3:\n  secretAccessKey: minioadmin\n", "additional properties 'secretAccessKey' not allowed"},
		{"job command", "jobs:\n  train:\n    args: [serve]\n", "/jobs/train/args/0"},
		{"job without resources", "jobs:\n  nightly:\n    enabled: true\n    args: [train]\n", "/jobs/nightly"},
		{"cpu target", "autoscaling:\n  targetCPUUtilizationPercentage: 150\n", "/autoscaling/targetCPUUtilizationPercentage"},
		{"scrape interval", "metrics:\n  serviceMonitor:\n    interval: often\n", "/metrics/serviceMonitor/interval"},
		{"secret name", "adminToken:\n  existingSecret: Admin_Token\n", "/adminToken/existingSecret"},
		{"service type", "service:\n  type: ExternalName\n", "/service/type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(f, []byte(tt.values), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := helm(t, "template", "rel", chart, "--values", f)
			if err == nil {
				t.Fatalf("helm template accepted\n%s\n rendering %d bytes", tt.values, len(out))
			}
			if !strings.Contains(err.Error(), "values don't meet the specifications of the schema") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not name %q:\n%v", tt.want, err)
			}
		})
	}
}

// TestPackage: the packaged chart (what a chart repository serves) carries
// the alert rules too; files/alert-rules.yml is a link into configs/.
func TestPackage(t *testing.T) {
	dir := t.TempDir()
	if _, err := helm(t, "package", chart, "--destination", dir); err != nil {
		t.Fatal(err)
	}
	pkgs, _ := filepath.Glob(filepath.Join(dir, "pipeline-*.tgz"))
	if len(pkgs) != 1 {
		t.Fatalf("helm package wrote %v", pkgs)
	}
	out, err := helm(t, "template", "rel", pkgs[0], "--set", "metrics.prometheusRule.enabled=true")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeAll(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(only[*monitoringv1.PrometheusRule](objs)); n != 1 {
		t.Fatalf("the packaged chart renders %d PrometheusRules", n)
	}
	if p := checkRules(objs, serveCLI{}); len(p) > 0 {
		t.Error(p)
	}
}
