{{- define "relaygate.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "relaygate.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "relaygate.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "relaygate.secretName" -}}
{{- default (include "relaygate.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{- define "relaygate.env" -}}
- name: RELAYGATE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "relaygate.secretName" . }}
      key: database-url
- name: RELAYGATE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "relaygate.secretName" . }}
      key: redis-url
- name: RELAYGATE_MASTER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "relaygate.secretName" . }}
      key: master-key
{{- end -}}
