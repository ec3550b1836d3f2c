{{/* The chart name, shortened to fit a label value. */}}
{{- define "flightdeck-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: the release name, followed by the chart name
unless the release name already contains it, cut to 63 characters (a label
value and a DNS label).
*/}}
{{- define "flightdeck-operator.fullname" -}}
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

{{- define "flightdeck-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that pick the operator's pods; they never change across upgrades (a Deployment's selector is immutable). */}}
{{- define "flightdeck-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flightdeck-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "flightdeck-operator.labels" -}}
helm.sh/chart: {{ include "flightdeck-operator.chart" . }}
{{ include "flightdeck-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: flightdeck-operator
{{- end }}

{{- define "flightdeck-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "flightdeck-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "flightdeck-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The arguments of `flightdeck operator` (the image's entrypoint) from
.Values.operator. A test parses them with the operator's own flag parser.
*/}}
{{- define "flightdeck-operator.args" -}}
{{- $o := .Values.operator }}
{{- if and (gt (int .Values.replicaCount) 1) (not $o.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs operator.leaderElection.enabled: true, or the replicas would all run the controllers at once" }}
{{- end -}}
- {{ printf "--http-address=%s:%v" $o.httpHost $o.httpPort | quote }}
- {{ printf "--leader-elect=%t" $o.leaderElection.enabled | quote }}
{{- if $o.leaderElection.enabled }}
- {{ printf "--lease-namespace=%s" .Release.Namespace | quote }}
- {{ printf "--lease-name=%s" $o.leaderElection.leaseName | quote }}
{{- end }}
- {{ printf "--resync-interval=%v" $o.resyncIntervalSeconds | quote }}
- {{ printf "--workers=%v" $o.workers | quote }}
- {{ printf "--max-retry-delay=%v" $o.maxRetryDelaySeconds | quote }}
- {{ printf "--log-level=%s" $o.logLevel | quote }}
- {{ printf "--backups-max-concurrent=%v" .Values.backups.maxConcurrent | quote }}
- {{ printf "--backups-jitter=%v" .Values.backups.jitterSeconds | quote }}
{{- end }}
