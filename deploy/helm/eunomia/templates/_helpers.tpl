{{/* The chart's name, and the release's full name (63 characters at most: DNS labels). */}}
{{- define "eunomia.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "eunomia.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "eunomia.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eunomia.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "eunomia.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "eunomia.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "eunomia.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "eunomia.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "eunomia.tokenSecret" -}}
{{- default (printf "%s-token" (include "eunomia.fullname" .)) .Values.token.existingSecret -}}
{{- end -}}

{{/* Where the pod finds its files. */}}
{{- define "eunomia.tokenDir" -}}/var/run/secrets/eunomia{{- end -}}
{{- define "eunomia.rulesDir" -}}/etc/eunomia/rules{{- end -}}

{{/*
The agent's config file (docs/server.md), as JSON: the trackers, the rules, the OTLP export
(but its endpoint),
then .Values.config over them. Addresses, the token file and the store are flags in the
DaemonSet, next to the ports and mounts they must match.
*/}}
{{- define "eunomia.config" -}}
{{- $c := dict -}}
{{- if .Values.trackers -}}
{{- $_ := set $c "trackers" .Values.trackers -}}
{{- end -}}
{{- $rules := dict "enabled" .Values.rules.enabled -}}
{{- if .Values.rules.disable -}}
{{- $_ := set $rules "disable" .Values.rules.disable -}}
{{- end -}}
{{- if .Values.rules.extra -}}
{{- $_ := set $rules "files" (list (include "eunomia.rulesDir" .)) -}}
{{- end -}}
{{- $_ := set $c "rules" $rules -}}
{{- if .Values.otel.endpoint -}}
{{- /* the endpoint is OTEL_EXPORTER_OTLP_ENDPOINT in the DaemonSet, where $(NODE_IP) expands */ -}}
{{- $otel := dict "enabled" true "protocol" .Values.otel.protocol "metrics" .Values.otel.metrics "alerts" .Values.otel.alerts "events" .Values.otel.events -}}
{{- if .Values.otel.intervalMs -}}
{{- $_ := set $otel "interval_ms" .Values.otel.intervalMs -}}
{{- end -}}
{{- $_ := set $c "otel" $otel -}}
{{- end -}}
{{- $c = mergeOverwrite $c (deepCopy .Values.config) -}}
{{- toPrettyJson $c -}}
{{- end -}}

{{/*
The monitors' relabelings: the job as deploy/prometheus names it, the node as instance and
node, the agent's pod as agent_pod; and the target labels the operator adds that would clash
with the series' own (pod, namespace, container are the watched containers') dropped.
*/}}
{{- define "eunomia.relabelings" -}}
- targetLabel: job
  replacement: {{ .Values.metrics.jobName }}
- sourceLabels: [__meta_kubernetes_pod_node_name]
  targetLabel: instance
- sourceLabels: [__meta_kubernetes_pod_node_name]
  targetLabel: node
- sourceLabels: [__meta_kubernetes_pod_name]
  targetLabel: agent_pod
- action: labeldrop
  regex: (pod|namespace|container)
{{- end -}}
