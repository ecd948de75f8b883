{{/* The chart's name, or nameOverride. */}}
{{- define "pipeline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release-qualified name of every object (63 characters at most). */}}
{{- define "pipeline.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "pipeline.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "pipeline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "pipeline.tag" . | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select serve's pods; component "serve" also becomes the
Prometheus job name (the ServiceMonitor's jobLabel), which the alert rules
match on. */}}
{{- define "pipeline.serveSelector" -}}
app.kubernetes.io/name: {{ include "pipeline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: serve
{{- end }}

{{- define "pipeline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pipeline.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pipeline.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* repository:tag, or repository:tag@digest when a digest is given. */}}
{{- define "pipeline.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (include "pipeline.tag" .) }}
{{- if .Values.image.digest }}
{{- $ref = printf "%s@%s" $ref .Values.image.digest }}
{{- end }}
{{- $ref }}
{{- end }}

{{/* Container hardening shared by every container of the chart. */}}
{{- define "pipeline.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* Where the admin token and the webhook secret are mounted. */}}
{{- define "pipeline.secretsDir" -}}/var/run/secrets/pipeline{{- end }}

{{/* Environment of every pipeline process: the registry, the artifact
store, and their credentials from existing Secrets (never inlined). */}}
{{- define "pipeline.env" -}}
- name: MLFLOW_TRACKING_URI
  value: {{ .Values.mlflow.trackingURI | quote }}
{{- with .Values.mlflow.existingSecret }}
{{- range $var, $key := dict "MLFLOW_TRACKING_USERNAME" $.Values.mlflow.usernameKey "MLFLOW_TRACKING_PASSWORD" $.Values.mlflow.passwordKey "MLFLOW_TRACKING_TOKEN" $.Values.mlflow.tokenKey }}
{{- if $key }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.mlflow.existingSecret }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.s3.endpointURL }}
- name: MLFLOW_S3_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
- name: AWS_DEFAULT_REGION
  value: {{ .Values.s3.region | quote }}
{{- with .Values.s3.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.s3.accessKeyIDKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.s3.secretAccessKeyKey }}
{{- end }}
- name: TMPDIR
  value: /tmp
{{- end }}

{{/* The JobSpec of a train or promote run; takes dict root, name, job. */}}
{{- define "pipeline.jobSpec" -}}
{{- $ := .root -}}
backoffLimit: {{ .job.backoffLimit }}
activeDeadlineSeconds: {{ .job.activeDeadlineSeconds }}
ttlSecondsAfterFinished: {{ .job.ttlSecondsAfterFinished }}
template:
  metadata:
    labels:
      app.kubernetes.io/name: {{ include "pipeline.name" $ }}
      app.kubernetes.io/instance: {{ $.Release.Name }}
      app.kubernetes.io/component: {{ .name }}
  spec:
    restartPolicy: Never
    serviceAccountName: {{ include "pipeline.serviceAccountName" $ }}
    automountServiceAccountToken: false
    {{- with $.Values.imagePullSecrets }}
    imagePullSecrets:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    securityContext:
      {{- toYaml $.Values.podSecurityContext | nindent 6 }}
    containers:
      - name: {{ .name }}
        image: {{ include "pipeline.image" $ | quote }}
        imagePullPolicy: {{ $.Values.image.pullPolicy }}
        args:
          {{- toYaml .job.args | nindent 10 }}
        env:
          {{- include "pipeline.env" $ | nindent 10 }}
        resources:
          {{- toYaml .job.resources | nindent 10 }}
        securityContext:
          {{- include "pipeline.containerSecurityContext" $ | nindent 10 }}
        volumeMounts:
          - name: tmp
            mountPath: /tmp
    volumes:
      - name: tmp
        emptyDir: {}
{{- end }}
