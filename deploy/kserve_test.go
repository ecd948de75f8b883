package deploy

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// KServe's Go module is not served by the Go module proxy reachable here,
// so the InferenceService is checked against the CRD schema KServe
// generates from those types: an excerpt of the openAPIV3Schema of
// serving.kserve.io/v1beta1 InferenceService from KServe v0.20.0
// (config/crd/full/serving.kserve.io_inferenceservices.yaml), keeping every
// property name at each level the manifest uses and the full schema of what
// it sets. Regenerate it after changing the manifest:
//
//	go test ./deploy -run TestKServe -kserve-crd PATH/serving.kserve.io_inferenceservices.yaml
var kserveCRD = flag.String("kserve-crd", "", "regenerate the InferenceService schema excerpt from this CRD file")

const (
	isvcFile    = "deploy/kserve/inferenceservice.yaml"
	excerptFile = "kserve/testdata/inferenceservice-v1beta1.schema.json"
)

// schemaKeys are the keywords of a CRD schema node the check uses.
var schemaKeys = []string{"type", "format", "enum", "required", "nullable", "maximum", "minimum", "pattern",
	"x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields"}

// prune returns the schema node with only the keywords the check reads:
// properties the value v sets keep their schema (pruned in turn), the others
// only their type.
func prune(s map[string]any, v any) map[string]any {
	out := shallow(s)
	delete(out, "x-excerpt-shallow")
	if props, ok := s["properties"].(map[string]any); ok {
		obj, _ := v.(map[string]any)
		pp := map[string]any{}
		for name, child := range props {
			if cv, set := obj[name]; set {
				pp[name] = prune(child.(map[string]any), cv)
			} else {
				pp[name] = shallow(child.(map[string]any))
			}
		}
		out["properties"] = pp
	}
	if items, ok := s["items"].(map[string]any); ok {
		out["items"] = prune(items, union(v))
	}
	if ap, ok := s["additionalProperties"].(map[string]any); ok {
		obj, _ := v.(map[string]any)
		var vals []any
		for _, x := range obj {
			vals = append(vals, x)
		}
		out["additionalProperties"] = prune(ap, union(vals))
	}
	return out
}

// shallow keeps a node's own keywords, marking a node with children the
// excerpt leaves out.
func shallow(s map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range schemaKeys {
		if x, ok := s[k]; ok {
			out[k] = x
		}
	}
	for _, k := range []string{"properties", "items", "additionalProperties"} {
		if _, ok := s[k]; ok {
			out["x-excerpt-shallow"] = true
		}
	}
	return out
}

// union merges the objects of a list, so that one pruned items schema
// covers every element.
func union(v any) any {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	merged := map[string]any{}
	for _, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return e // scalars: their schema has no children
		}
		for k, x := range obj {
			if prev, ok := merged[k]; ok {
				if pl, ok := prev.([]any); ok {
					if xl, ok := x.([]any); ok {
						merged[k] = append(slices.Clone(pl), xl...)
						continue
					}
				}
				if pm, ok := prev.(map[string]any); ok {
					if xm, ok := x.(map[string]any); ok {
						merged[k] = union([]any{pm, xm})
						continue
					}
				}
			}
			merged[k] = x
		}
	}
	return merged
}

// validate checks v against a pruned schema node: types, enums, required
// properties and, as the API server's pruning would silently drop them,
// unknown properties as errors.
func validate(v any, s map[string]any, path string) []string {
	var p []string
	if s["x-kubernetes-int-or-string"] == true {
		switch v.(type) {
		case string, float64:
		default:
			p = append(p, fmt.Sprintf("%s: %v is neither an integer nor a string", path, v))
		}
		return p
	}
	switch s["type"] {
	case "object":
		if path == ".metadata" {
			return nil // ObjectMeta, which the API server checks: decoded strictly in checkISVC
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return append(p, fmt.Sprintf("%s: want an object, got %T", path, v))
		}
		if s["x-excerpt-shallow"] == true {
			return append(p, fmt.Sprintf("%s: not in the schema excerpt; regenerate it with -kserve-crd", path))
		}
		props, hasProps := s["properties"].(map[string]any)
		ap, hasAP := s["additionalProperties"].(map[string]any)
		for _, k := range sortedKeys(obj) {
			switch child, known := props[k]; {
			case known:
				p = append(p, validate(obj[k], child.(map[string]any), path+"."+k)...)
			case hasAP:
				p = append(p, validate(obj[k], ap, path+"."+k)...)
			case s["x-kubernetes-preserve-unknown-fields"] == true:
			case hasProps || !hasAP:
				p = append(p, fmt.Sprintf("%s: unknown field %q", path, k))
			}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				p = append(p, fmt.Sprintf("%s: required field %q missing", path, r))
			}
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return append(p, fmt.Sprintf("%s: want a list, got %T", path, v))
		}
		if s["x-excerpt-shallow"] == true {
			return append(p, fmt.Sprintf("%s: not in the schema excerpt; regenerate it with -kserve-crd", path))
		}
		items, _ := s["items"].(map[string]any)
		for i, e := range list {
			p = append(p, validate(e, items, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			p = append(p, fmt.Sprintf("%s: want a string, got %v", path, v))
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			p = append(p, fmt.Sprintf("%s: want an integer, got %v", path, v))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			p = append(p, fmt.Sprintf("%s: want a number, got %v", path, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			p = append(p, fmt.Sprintf("%s: want true or false, got %v", path, v))
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		p = append(p, fmt.Sprintf("%s: %v is not one of %v", path, v, enum))
	}
	return p
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// readISVC reads the manifest as generic JSON values.
func readISVC(t *testing.T) (raw []byte, v map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, isvcFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", isvcFile, err)
	}
	return raw, v
}

// checkISVC validates the manifest against the schema excerpt, decodes its
// metadata, pod-level settings and containers strictly into the Kubernetes
// API types, and checks serve's command line, port and probes against the
// binary, as the chart's checks do.
func checkISVC(v map[string]any, schema map[string]any, cli serveCLI) []string {
	p := validate(v, schema, "")
	if v["apiVersion"] != "serving.kserve.io/v1beta1" || v["kind"] != "InferenceService" {
		p = append(p, fmt.Sprintf("apiVersion %v kind %v: want serving.kserve.io/v1beta1 InferenceService", v["apiVersion"], v["kind"]))
	}
	strict := func(path string, x any, into any) {
		b, _ := json.Marshal(x)
		if err := yaml.UnmarshalStrict(b, into); err != nil {
			p = append(p, fmt.Sprintf("%s: %v", path, err))
		}
	}
	var meta metav1.ObjectMeta
	strict("metadata", v["metadata"], &meta)
	spec, _ := v["spec"].(map[string]any)
	pred, _ := spec["predictor"].(map[string]any)
	var containers []corev1.Container
	strict(".spec.predictor.containers", pred["containers"], &containers)
	var psc corev1.PodSecurityContext
	strict(".spec.predictor.securityContext", pred["securityContext"], &psc)
	var vols []corev1.Volume
	strict(".spec.predictor.volumes", pred["volumes"], &vols)
	if len(containers) != 1 {
		return append(p, fmt.Sprintf("%d predictor containers, want 1 (kserve-container)", len(containers)))
	}
	if tok, _ := pred["automountServiceAccountToken"].(bool); tok || pred["automountServiceAccountToken"] == nil {
		p = append(p, "predictor: automountServiceAccountToken is not false")
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		p = append(p, "predictor securityContext: want runAsNonRoot, a numeric non-zero runAsUser and seccomp RuntimeDefault")
	}
	c := containers[0]
	if c.Name != "kserve-container" {
		p = append(p, fmt.Sprintf("container %q: KServe's custom predictor container is kserve-container", c.Name))
	}
	// KServe's custom predictor speaks the protocol its PROTOCOL variable
	// names, and its v2 URLs name the InferenceService: serve answers
	// /v2/models/NAME/... under the registered model's name.
	if i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "PROTOCOL" }); i < 0 || c.Env[i].Value != "v2" {
		p = append(p, "kserve-container: PROTOCOL is not v2 (the Open Inference Protocol serve answers)")
	}
	var model string
	for _, a := range c.Args {
		if m, ok := strings.CutPrefix(a, "--model=models:/"); ok {
			model, _, _ = strings.Cut(m, "@")
		}
	}
	if model != meta.Name {
		p = append(p, fmt.Sprintf("InferenceService %q serves registered model %q: KServe's /v2/models/%s/infer would not find it", meta.Name, model, meta.Name))
	}
	// The checks of the chart's serve container, on a Deployment made of it.
	c.Ports[0].Name = "http"
	dep := object{kind: "Deployment", name: meta.Name}
	d := deploymentOf(meta.Name, c, psc, vols)
	dep.obj = d
	for _, pr := range checkServe([]object{dep}, cli) {
		if !strings.Contains(pr, "Deployment strategy") && !strings.Contains(pr, "preStop") { // KServe owns the Deployment
			p = append(p, pr)
		}
	}
	for _, pr := range append(checkPods([]object{dep}, cli), checkSecrets([]object{dep}, cli)...) {
		if !strings.Contains(pr, "automountServiceAccountToken") { // checked above on the predictor
			p = append(p, pr)
		}
	}
	return p
}

func TestKServe(t *testing.T) {
	raw, v := readISVC(t)
	if *kserveCRD != "" {
		regenerateExcerpt(t, v)
	}
	data, err := os.ReadFile(excerptFile)
	if err != nil {
		t.Fatalf("%v (regenerate with -kserve-crd)", err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("%s: %v", excerptFile, err)
	}
	schema = schema["schema"].(map[string]any)
	cli := readCLI(t)
	if p := checkISVC(v, schema, cli); len(p) > 0 {
		for _, x := range p {
			t.Error(x)
		}
		return
	}

	// Each way of breaking the manifest is caught.
	for _, tt := range []struct{ name, old, new, want string }{
		{"unknown predictor field", "    minReplicas: 2\n", "    minReplica: 2\n", `.spec.predictor: unknown field "minReplica"`},
		{"unknown spec field", "  predictor:\n", "  predictors: {}\n  predictor:\n", `.spec: unknown field "predictors"`},
		{"wrong type", "    maxReplicas: 6\n", "    maxReplicas: six\n", ".spec.predictor.maxReplicas: want an integer"},
		{"enum", "    scaleMetric: cpu\n", "    scaleMetric: qps\n", ".spec.predictor.scaleMetric: qps is not one of"},
		{"unknown container field", "        image: creditrisk", "        imagePolicy: Always\n        image: creditrisk", `unknown field "imagePolicy"`},
		{"unknown metadata field", "  annotations:\n", "  annotation: {}\n  annotations:\n", `metadata: error unmarshaling JSON: while decoding JSON: json: unknown field "annotation"`},
		{"probe path", "            path: /ready\n", "            path: /readyz\n", "readiness probe: path /readyz"},
		{"port", "          - containerPort: 8080\n", "          - containerPort: 8000\n", "serve listens on \":8080\" but the container port http is 8000"},
		{"inline secret", "            valueFrom:\n              secretKeyRef:\n                name: s3-credentials\n                key: secret-access-key\n", "            value: minioadmin\n", "AWS_SECRET_ACCESS_KEY is not taken from a Secret"},
		{"root", "      runAsUser: 10001\n", "      runAsUser: 0\n", "numeric non-zero runAsUser"},
		{"token", "    automountServiceAccountToken: false\n", "    automountServiceAccountToken: true\n", "automountServiceAccountToken is not false"},
		{"protocol", "            value: v2\n", "            value: v1\n", "PROTOCOL is not v2"},
		{"model name", "  name: credit-risk\n", "  name: credit\n", `InferenceService "credit" serves registered model "credit-risk"`},
		{"no limits", "          limits:\n            cpu: \"1\"\n            memory: 512Mi\n", "", "resources lack cpu requests and limits"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(raw), tt.old) {
				t.Fatalf("%s has no %q to break", isvcFile, tt.old)
			}
			var broken map[string]any
			if err := yaml.Unmarshal([]byte(strings.Replace(string(raw), tt.old, tt.new, 1)), &broken); err != nil {
				t.Fatal(err)
			}
			p := checkISVC(broken, schema, cli)
			if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("no problem %q reported; got %q", tt.want, p)
			}
		})
	}
}

func regenerateExcerpt(t *testing.T, v map[string]any) {
	t.Helper()
	data, err := os.ReadFile(*kserveCRD)
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Group    string `json:"group"`
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatalf("%s: %v", *kserveCRD, err)
	}
	for _, ver := range crd.Spec.Versions {
		if ver.Name != "v1beta1" || crd.Spec.Group != "serving.kserve.io" {
			continue
		}
		out, err := json.MarshalIndent(map[string]any{
			"source": "KServe v0.20.0 config/crd/full/serving.kserve.io_inferenceservices.yaml (Apache-2.0), " +
				"openAPIV3Schema of v1beta1, pruned by deploy/kserve_test.go to what " + isvcFile + " uses",
			"schema": prune(ver.Schema.OpenAPIV3Schema, v),
		}, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(excerptFile, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", excerptFile, len(out))
		return
	}
	t.Fatalf("%s: no serving.kserve.io v1beta1 version", *kserveCRD)
}

// deploymentOf wraps the predictor's container in a Deployment so that the
// chart's checks apply to it.
func deploymentOf(name string, c corev1.Container, psc corev1.PodSecurityContext, vols []corev1.Volume) any {
	f := false
	d := &appsv1.Deployment{}
	d.Name = name
	c.Name = "serve" // the name the chart's checks look for
	d.Spec.Template.Spec.Containers = []corev1.Container{c}
	d.Spec.Template.Spec.SecurityContext = &psc
	d.Spec.Template.Spec.Volumes = vols
	d.Spec.Template.Spec.AutomountServiceAccountToken = &f
	zero := intstr.FromInt32(0)
	d.Spec.Strategy.Type = "RollingUpdate"
	d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &zero}
	return d
}
