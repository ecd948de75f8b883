// Package ops checks the operations files of the repository: the compose
// file (loaded with compose-go, since no Docker engine runs here), the
// Dockerfiles, prometheus.yml and its rule files (with promtool), the Grafana
// provisioning and dashboards, and, against a real Prometheus scraping a
// real `pipeline serve`, that every dashboard query and alert works; that the
// runtime image builds and serves under podman; and that several serve
// replicas behind HAProxy all follow a promotion and a rollback. It has
// no code of its own beyond the helpers of those tests.
package ops
