package ops_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/creditrisk/engine/dashboards"
	"github.com/creditrisk/engine/internal/testkit"
)

// root is the repository root, where the operations files live.
const root = ".."

func loadProject(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadWith(t, generatedEnv(t))
	if err != nil {
		t.Fatalf("load docker-compose.yml with the .env made from .env.example: %v", err)
	}
	return p
}

func loadWith(t *testing.T, envFile string) (*types.Project, error) {
	t.Helper()
	o, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithName("pipeline"),
		cli.WithWorkingDirectory(root),
		cli.WithEnvFiles(envFile),
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}))
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	return o.LoadProject(t.Context())
}

// generatedEnv makes a .env as .env.example says to, running the command
// its header gives (random secrets from openssl).
func generatedEnv(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		testkit.Unavailable(t, "openssl is not installed: %v", err)
	}
	example, err := filepath.Abs(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	var command string
	for _, line := range strings.Split(string(b), "\n") {
		if c, ok := strings.CutPrefix(line, "#   awk "); ok {
			command = "awk " + c
		}
	}
	if command == "" {
		t.Fatal(".env.example does not give the command that makes .env (a comment line \"#   awk ...\")")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env.example"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", command)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", command, err, out)
	}
	return filepath.Join(dir, ".env")
}

// oneShot reports whether the service is a job that runs to completion.
func oneShot(s types.ServiceConfig) bool { return s.Restart == "no" }

// TestComposeServices checks the services and published ports that
// docs/operations.md documents, and that only what a person opens is
// published, on loopback only.
func TestComposeServices(t *testing.T) {
	p := loadProject(t)
	want := map[string][]string{
		"postgres":      nil,
		"minio":         {"127.0.0.1:9000:9000", "127.0.0.1:9001:9001"},
		"create-bucket": nil,
		"mlflow":        {"127.0.0.1:5000:5000"},
		"serve":         {"127.0.0.1:8000:8000"},
		"train":         nil,
		"promote":       nil,
		"prometheus":    {"127.0.0.1:9090:9090"},
		"grafana":       {"127.0.0.1:3000:3000"},
	}
	got := map[string][]string{}
	for name, s := range p.Services {
		var ports []string
		for _, pc := range s.Ports {
			ports = append(ports, pc.HostIP+":"+pc.Published+":"+itoa(pc.Target))
		}
		sort.Strings(ports)
		got[name] = ports
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("services and ports (-documented +compose):\n%s", diff)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatalf("the services are documented in docs/operations.md: %v", err)
	}
	for name, ports := range want {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/operations.md does not mention service `%s`", name)
		}
		for _, pt := range ports {
			url := pt[:strings.LastIndex(pt, ":")]
			if !strings.Contains(string(doc), url) {
				t.Errorf("docs/operations.md does not give the address %s of %s", url, name)
			}
		}
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func TestComposeHealthAndOrder(t *testing.T) {
	p := loadProject(t)
	for name, s := range p.Services {
		t.Run(name, func(t *testing.T) {
			jobs := slices.Contains(s.Profiles, "jobs")
			switch {
			case oneShot(s):
				if (name == "train" || name == "promote") != jobs {
					t.Errorf("profiles %v: train and promote (only) belong to the jobs profile", s.Profiles)
				}
			case s.Restart != "unless-stopped":
				t.Errorf("restart %q: long-running services restart unless-stopped", s.Restart)
			case s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0:
				t.Errorf("long-running service without a health check")
			case jobs:
				t.Errorf("a long-running service is in the jobs profile")
			}
			if s.HealthCheck != nil && len(s.HealthCheck.Test) > 1 && slices.Contains(s.HealthCheck.Test[1:], "curl") {
				t.Errorf("health check %v runs curl, which the images lack", s.HealthCheck.Test)
			}
			for dep, d := range s.DependsOn {
				ds, ok := p.Services[dep]
				if !ok {
					t.Errorf("depends on unknown service %s", dep)
					continue
				}
				want := types.ServiceConditionHealthy
				if oneShot(ds) {
					want = types.ServiceConditionCompletedSuccessfully
				}
				if d.Condition != want {
					t.Errorf("depends_on %s: condition %q, want %q", dep, d.Condition, want)
				}
			}
		})
	}
	// `docker compose up --wait` counts a one-shot container that exited as a
	// failure unless a long-running service waits for it to complete.
	for name, s := range p.Services {
		if !oneShot(s) || len(s.Profiles) > 0 {
			continue
		}
		adopted := false
		for _, other := range p.Services {
			if !oneShot(other) && other.DependsOn[name].Condition == types.ServiceConditionCompletedSuccessfully {
				adopted = true
			}
		}
		if !adopted {
			t.Errorf("one-shot %s: no long-running service depends on it completing (docker compose up --wait would fail)", name)
		}
	}
	if d := p.Services["mlflow"].DependsOn["create-bucket"]; d.Condition != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("mlflow must wait for the bucket job to succeed, got %+v", d)
	}
	bucket := strings.Join(p.Services["create-bucket"].Command, " ")
	if !strings.Contains(bucket, "mc mb --ignore-existing local/mlflow") {
		t.Errorf("the bucket job does not run mc mb --ignore-existing: %q", bucket)
	}
	if hc := p.Services["minio"].HealthCheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD", "mc", "ready", "local"}) {
		t.Errorf("minio health check: want mc ready local")
	}
	if hc := p.Services["postgres"].HealthCheck; hc == nil || !strings.Contains(strings.Join(hc.Test, " "), "pg_isready") {
		t.Errorf("postgres health check: want pg_isready")
	}
}

// TestComposeVolumes: state lives in named volumes, declared at the top.
func TestComposeVolumes(t *testing.T) {
	p := loadProject(t)
	for name, target := range map[string]string{
		"postgres":   "/var/lib/postgresql/data",
		"minio":      "/data",
		"prometheus": "/prometheus",
		"grafana":    "/var/lib/grafana",
	} {
		found := false
		for _, v := range p.Services[name].Volumes {
			if v.Target == target {
				found = true
				if v.Type != types.VolumeTypeVolume {
					t.Errorf("%s: %s is a %s mount, want a named volume", name, target, v.Type)
				} else if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("%s: volume %s is not declared", name, v.Source)
				}
			}
		}
		if !found {
			t.Errorf("%s: no volume at %s", name, target)
		}
	}
}

var (
	pinned  = regexp.MustCompile(`^[a-z0-9./_-]+:[A-Za-z0-9._-]+$`)
	fromRE  = regexp.MustCompile(`(?m)^FROM\s+(\S+)`)
	builtAs = regexp.MustCompile(`^creditrisk/`)
)

func TestImagesPinned(t *testing.T) {
	p := loadProject(t)
	for name, s := range p.Services {
		img := s.Image
		if img == "" {
			t.Errorf("%s: no image", name)
			continue
		}
		if !pinned.MatchString(img) || strings.HasSuffix(img, ":latest") {
			t.Errorf("%s: image %q is not pinned to a tag", name, img)
		}
		if builtAs.MatchString(img) && s.Build == nil && !slices.ContainsFunc(p.ServiceNames(), func(o string) bool {
			return p.Services[o].Image == img && p.Services[o].Build != nil
		}) {
			t.Errorf("%s: image %q is built by no service", name, img)
		}
	}
	// The build stage uses the Go version of go.mod.
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if goVersion == nil || !strings.Contains(string(df), "FROM golang:"+string(goVersion[1])+"-") {
		t.Errorf("Dockerfile does not build with the Go version of go.mod (%s)", goVersion)
	}
	for _, f := range []string{"Dockerfile", "Dockerfile.mlflow"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fromRE.FindAllStringSubmatch(string(data), -1) {
			if m[1] == "scratch" { // the empty image, nothing to pin
				continue
			}
			if !pinned.MatchString(m[1]) || strings.HasSuffix(m[1], ":latest") {
				t.Errorf("%s: base image %q is not pinned", f, m[1])
			}
		}
	}
}

// TestNoInlineSecrets: every password, secret, token and user comes from
// .env; none of .env.example's values is written in the compose file.
func TestNoInlineSecrets(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	env := readEnv(t, filepath.Join(root, ".env.example"))
	secret := regexp.MustCompile(`(?i)password|secret|token|minio_root_user|access_key`)
	for k, v := range env {
		if secret.MatchString(k) && v != "" && strings.Contains(string(raw), v) {
			t.Errorf("the value of %s from .env.example is written in docker-compose.yml", k)
		}
	}
	var doc struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
		Anchors map[string]string `yaml:"x-s3-client"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	check := func(where, k, v string) {
		// A *_FILE variable names where a compose secret is mounted.
		if strings.HasSuffix(k, "_FILE") && strings.HasPrefix(v, "/run/secrets/") {
			return
		}
		if secret.MatchString(k) && !strings.HasPrefix(v, "${") {
			t.Errorf("%s: %s is set inline (%q), not from .env", where, k, v)
		}
	}
	for name, s := range doc.Services {
		for k, v := range s.Environment {
			check(name, k, v)
		}
	}
	for k, v := range doc.Anchors {
		check("x-s3-client", k, v)
	}
	gi, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(gi), "\n"), "/.env") {
		t.Errorf(".gitignore does not ignore /.env")
	}
	// Every variable the compose file needs is in .env.example.
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)`).FindAllStringSubmatch(string(raw), -1) {
		if _, ok := env[m[1]]; !ok {
			t.Errorf("docker-compose.yml uses ${%s}, which .env.example does not set", m[1])
		}
	}
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			t.Fatalf("%s:%d: want KEY=value, got %q", path, i+1, line)
		}
		env[k] = v
	}
	return env
}

// flagNames lists the --flags in a command line.
func flagNames(args []string) []string {
	var fs []string
	for _, a := range args {
		if strings.HasPrefix(a, "--") {
			name, _, _ := strings.Cut(a, "=")
			fs = append(fs, name)
		}
	}
	slices.Sort(fs)
	return slices.Compact(fs)
}

// shellFunction returns the body of a bash function of scripts/stack.
func shellFunction(t *testing.T, script, name string) string {
	t.Helper()
	_, body, ok := strings.Cut(script, "\n"+name+"() {\n")
	if !ok {
		t.Fatalf("scripts/stack has no function %s", name)
	}
	body, _, ok = strings.Cut(body, "\n}\n")
	if !ok {
		t.Fatalf("scripts/stack: function %s does not end", name)
	}
	return body
}

// TestSharedWithNativeStack keeps docker-compose.yml and scripts/stack from
// drifting apart: the same MLflow requirements and server flags, the same
// Prometheus version, configuration and rule files.
func TestSharedWithNativeStack(t *testing.T) {
	p := loadProject(t)
	stack, err := os.ReadFile(filepath.Join(root, "scripts", "stack"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(stack)

	t.Run("mlflow flags", func(t *testing.T) {
		native := flagNames(strings.Fields(shellFunction(t, script, "start_mlflow3")))
		compose := flagNames(p.Services["mlflow"].Command)
		if diff := cmp.Diff(native, compose); diff != "" {
			t.Errorf("MLflow server flags (-scripts/stack +compose):\n%s", diff)
		}
		for _, want := range []string{"0.0.0.0", "--expose-prometheus"} {
			if !slices.Contains(p.Services["mlflow"].Command, want) {
				t.Errorf("compose mlflow command lacks %s", want)
			}
		}
		hosts := p.Services["mlflow"].Command[slices.Index(p.Services["mlflow"].Command, "--allowed-hosts")+1]
		if !slices.Contains(strings.Split(hosts, ","), "mlflow:5000") {
			t.Errorf("--allowed-hosts %q does not admit the compose host name mlflow:5000", hosts)
		}
	})

	t.Run("mlflow requirements", func(t *testing.T) {
		df, err := os.ReadFile(filepath.Join(root, "Dockerfile.mlflow"))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^COPY requirements/mlflow3\.txt `).Match(df) || !strings.Contains(string(df), "pip install --no-cache-dir -r") {
			t.Errorf("Dockerfile.mlflow does not install requirements/mlflow3.txt")
		}
		if !strings.Contains(script, "requirements/mlflow3.txt") && !strings.Contains(script, "mlflow3.txt") {
			t.Errorf("scripts/stack no longer builds from requirements/mlflow3.txt")
		}
		req, err := os.ReadFile(filepath.Join(root, "requirements", "mlflow3.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range []string{"mlflow==", "psycopg2-binary==", "boto3==", "prometheus_flask_exporter=="} {
			if !strings.Contains(string(req), "\n"+pkg) {
				t.Errorf("requirements/mlflow3.txt does not pin %s", pkg)
			}
		}
	})

	t.Run("prometheus files", func(t *testing.T) {
		if !strings.Contains(script, `--config.file="$ROOT/prometheus.yml"`) {
			t.Errorf("scripts/stack does not run Prometheus with the repository's prometheus.yml")
		}
		mounts := map[string]string{}
		for _, v := range p.Services["prometheus"].Volumes {
			rel, err := filepath.Rel(p.WorkingDir, v.Source)
			if err == nil {
				mounts[filepath.ToSlash(rel)] = v.Target
			}
		}
		want := map[string]string{
			"prometheus.yml":                     "/etc/prometheus/prometheus.yml",
			"configs/prometheus/rules":           "/etc/prometheus/configs/prometheus/rules",
			"configs/prometheus/targets/compose": "/etc/prometheus/configs/prometheus/targets/native",
		}
		for src, target := range want {
			if mounts[src] != target {
				t.Errorf("prometheus mounts %s at %q, want %q", src, mounts[src], target)
			}
		}
		native, compose := dirNames(t, "configs/prometheus/targets/native"), dirNames(t, "configs/prometheus/targets/compose")
		if !slices.Equal(native, compose) {
			t.Errorf("target files differ: native %v, compose %v", native, compose)
		}
		// promtool does not read file_sd files: check their shape here.
		hostPort := regexp.MustCompile(`^[a-z0-9.-]+:\d+$`)
		for _, dir := range []string{"native", "compose"} {
			for _, name := range native {
				path := "configs/prometheus/targets/" + dir + "/" + name
				var groups []struct {
					Targets []string          `yaml:"targets"`
					Labels  map[string]string `yaml:"labels"`
				}
				readYAML(t, path, &groups)
				if len(groups) == 0 {
					t.Errorf("%s: no target groups", path)
				}
				for _, g := range groups {
					if len(g.Targets) == 0 {
						t.Errorf("%s: a group without targets", path)
					}
					for _, tg := range g.Targets {
						if !hostPort.MatchString(tg) {
							t.Errorf("%s: target %q is not host:port", path, tg)
						}
					}
				}
			}
		}
	})

	t.Run("prometheus version", func(t *testing.T) {
		bin, err := exec.LookPath("prometheus")
		if err != nil {
			testkit.Unavailable(t, "%s is unavailable", "the prometheus binary")
		}
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("prometheus --version: %v\n%s", err, out)
		}
		m := regexp.MustCompile(`version (\d+\.\d+\.\d+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("prometheus --version: no version in %q", out)
		}
		if want := "prom/prometheus:v" + string(m[1]); p.Services["prometheus"].Image != want {
			t.Errorf("compose runs %s, the native stack Prometheus %s: want image %s", p.Services["prometheus"].Image, m[1], want)
		}
	})

	t.Run("grafana provisioning", func(t *testing.T) {
		var ds struct {
			Datasources []struct {
				UID, Type, URL string
			} `yaml:"datasources"`
		}
		readYAML(t, "configs/grafana/provisioning/datasources/prometheus.yml", &ds)
		if len(ds.Datasources) != 1 || ds.Datasources[0].UID != dashboards.DatasourceUID ||
			ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
			t.Errorf("datasources = %+v, want one prometheus at http://prometheus:9090 with uid %q", ds.Datasources, dashboards.DatasourceUID)
		}
		var prov struct {
			Providers []struct {
				Type    string
				Options struct{ Path string }
			} `yaml:"providers"`
		}
		readYAML(t, "configs/grafana/provisioning/dashboards/pipeline.yml", &prov)
		mounted := ""
		for _, v := range p.Services["grafana"].Volumes {
			if filepath.Base(v.Source) == "dashboards" {
				mounted = v.Target
			}
		}
		if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path != mounted || mounted == "" {
			t.Errorf("dashboard provider %+v does not read the mounted dashboards folder %q", prov.Providers, mounted)
		}
	})
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(root, dir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestPipelineDockerfile: multi-stage, a static binary, and a final stage
// that runs as a user other than root.
func TestPipelineDockerfile(t *testing.T) {
	for _, f := range []string{"Dockerfile", "Dockerfile.mlflow"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		stages := fromRE.FindAllStringIndex(string(data), -1)
		last := string(data[stages[len(stages)-1][0]:])
		users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(last, -1)
		if len(users) == 0 || slices.Contains([]string{"root", "0", "0:0"}, users[len(users)-1][1]) {
			t.Errorf("%s: the final stage runs as root", f)
		}
		if f == "Dockerfile" {
			if len(stages) < 2 {
				t.Errorf("Dockerfile: %d stages, want a build stage and a runtime stage", len(stages))
			}
			if !strings.Contains(string(data), "CGO_ENABLED=0") {
				t.Errorf("Dockerfile: the binary is not built static (CGO_ENABLED=0)")
			}
		}
	}
}

// secretKey names the variables of .env.example that hold secrets.
var secretKey = regexp.MustCompile(`(?i)password|secret|token`)

// TestEnvExampleHoldsNoSecret: .env.example gives no usable secret, compose
// refuses to start with it as it is, and the command it gives makes a
// distinct random value (64 hex digits) for each.
func TestEnvExampleHoldsNoSecret(t *testing.T) {
	example := readEnv(t, filepath.Join(root, ".env.example"))
	var keys []string
	for k, v := range example {
		if secretKey.MatchString(k) {
			keys = append(keys, k)
			if v != "" {
				t.Errorf(".env.example sets %s: a secret that works anywhere it is copied", k)
			}
		}
	}
	if len(keys) < 4 {
		t.Fatalf(".env.example names %d secrets, want the passwords and the admin token", len(keys))
	}
	if _, err := loadWith(t, filepath.Join(root, ".env.example")); err == nil || !strings.Contains(err.Error(), "set in .env") {
		t.Errorf("compose with .env.example as it is: %v, want a refusal naming an unset secret", err)
	}
	for _, k := range keys {
		// Every secret alone unset stops compose, whichever it is.
		env := readEnv(t, generatedEnv(t))
		env[k] = ""
		var b strings.Builder
		for k, v := range env {
			b.WriteString(k + "=" + v + "\n")
		}
		p := filepath.Join(t.TempDir(), ".env")
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadWith(t, p); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("compose with %s empty: %v, want a refusal naming it", k, err)
		}
	}
	gen := readEnv(t, generatedEnv(t))
	seen := map[string]string{}
	for _, k := range keys {
		v := gen[k]
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(v) {
			t.Errorf("generated %s = %q, want 64 hex digits", k, v)
		}
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s got the same value", k, other)
		}
		seen[v] = k
	}
}

// TestSecretsOffCommandLines: no secret is on a container's command line
// (what ps shows to every user of the host): MLflow takes its database URI,
// password included, from MLFLOW_BACKEND_STORE_URI, serve its admin token
// from a compose secret file; and Prometheus has no lifecycle API, which
// lets anyone who reaches its port stop it.
func TestSecretsOffCommandLines(t *testing.T) {
	envPath := generatedEnv(t)
	env := readEnv(t, envPath)
	p, err := loadWith(t, envPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range p.Services {
		argv := strings.Join(append(append([]string{}, s.Entrypoint...), s.Command...), " ")
		for k, v := range env {
			if secretKey.MatchString(k) && v != "" && strings.Contains(argv, v) {
				t.Errorf("%s: the value of %s is on the command line", name, k)
			}
		}
	}
	mlflow := p.Services["mlflow"]
	if slices.Contains(mlflow.Command, "--backend-store-uri") {
		t.Errorf("mlflow: --backend-store-uri on the command line")
	}
	if uri := mlflow.Environment["MLFLOW_BACKEND_STORE_URI"]; uri == nil || !strings.Contains(*uri, env["POSTGRES_PASSWORD"]+"@postgres:5432/mlflow") {
		t.Errorf("mlflow: MLFLOW_BACKEND_STORE_URI = %v, want the PostgreSQL URI", uri)
	}
	serve := p.Services["serve"]
	if _, ok := serve.Environment["PIPELINE_SERVE_ADMIN_TOKEN"]; ok {
		t.Errorf("serve: the admin token is a variable (docker inspect shows it), want a file")
	}
	file := serve.Environment["PIPELINE_SERVE_ADMIN_TOKEN_FILE"]
	if file == nil || !slices.ContainsFunc(serve.Secrets, func(s types.ServiceSecretConfig) bool {
		return s.Source == "admin_token" && "/run/secrets/"+s.Source == *file
	}) {
		t.Errorf("serve: PIPELINE_SERVE_ADMIN_TOKEN_FILE = %v, secrets %+v; want the admin_token secret's file", file, serve.Secrets)
	}
	if s, ok := p.Secrets["admin_token"]; !ok || s.Environment != "PIPELINE_ADMIN_TOKEN" {
		t.Errorf("secret admin_token: %+v, want it from PIPELINE_ADMIN_TOKEN", s)
	}
	if slices.ContainsFunc(p.Services["prometheus"].Command, func(a string) bool { return strings.HasPrefix(a, "--web.enable-lifecycle") }) {
		t.Errorf("prometheus: --web.enable-lifecycle")
	}
	stack, err := os.ReadFile(filepath.Join(root, "scripts", "stack"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(stack)
	if body := shellFunction(t, script, "start_prometheus"); strings.Contains(body, "--web.enable-lifecycle") {
		t.Errorf("scripts/stack: start_prometheus enables the lifecycle API")
	}
	if strings.Contains(shellFunction(t, script, "cmd_up"), "/-/reload") {
		t.Errorf("scripts/stack: cmd_up reloads Prometheus through the lifecycle API")
	}
	for _, fn := range []string{"start_mlflow3", "start_mlflow2"} {
		body := shellFunction(t, script, fn)
		if strings.Contains(body, "--backend-store-uri") || !strings.Contains(body, "MLFLOW_BACKEND_STORE_URI=") {
			t.Errorf("scripts/stack: %s passes the database URI on the command line", fn)
		}
	}
}
