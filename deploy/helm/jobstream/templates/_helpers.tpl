{{/*
Names, labels and the pieces every workload shares.
*/}}

{{- define "jobstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "jobstream.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The roles each service has, fixed by its code (services/<service>/src/.../app.py): a service
without an events table has no relay, one without consumers or workers no consume role.
*/}}
{{- define "jobstream.serviceRoles" -}}
web: [api]
intake: [api, consume, relay]
dispatch: [api, consume, relay]
fieldupdates: [api, consume, relay]
billing: [api, consume, relay]
reporting: [api, consume]
{{- end -}}

{{/* Services that keep attachments in the object store. */}}
{{- define "jobstream.objectStoreServices" -}}
[intake, fieldupdates]
{{- end -}}

{{/* "true" when this role reads or writes attachments: the API and the consumers, not the relay or jobs. */}}
{{- define "jobstream.usesObjects" -}}
{{- if and (has .service (include "jobstream.objectStoreServices" . | fromYamlArray)) (has .role (list "api" "consume")) -}}
true
{{- end -}}
{{- end -}}

{{- define "jobstream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "jobstream.labels" -}}
helm.sh/chart: {{ include "jobstream.chart" . }}
app.kubernetes.io/name: {{ include "jobstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jobstream
{{- end -}}

{{/* Selector labels of one service role; call with (dict "root" $ "service" "intake" "role" "api"). */}}
{{- define "jobstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jobstream.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ printf "%s-%s" .service .role }}
{{- end -}}

{{/* Resource name of one service role: <fullname>-<service>-<role>. */}}
{{- define "jobstream.roleName" -}}
{{- printf "%s-%s-%s" (include "jobstream.fullname" .root) .service .role -}}
{{- end -}}

{{/* A role's settings: roleDefaults.<role> overlaid with services.<service>.<role>. */}}
{{- define "jobstream.roleValues" -}}
{{- $defaults := deepCopy (index .root.Values.roleDefaults .role) -}}
{{- $own := deepCopy (default dict (index (index .root.Values.services .service) .role)) -}}
{{- toYaml (mustMergeOverwrite $defaults $own) -}}
{{- end -}}

{{- define "jobstream.image" -}}
{{- $svc := index .root.Values.services .service -}}
{{- $tag := default (default .root.Chart.AppVersion .root.Values.image.tag) $svc.image.tag -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) $svc.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $svc.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "jobstream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "jobstream.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "jobstream.postgresqlSecret" -}}
{{- default (printf "%s-postgresql" (include "jobstream.fullname" .)) .Values.postgresql.existingSecret -}}
{{- end -}}

{{- define "jobstream.signingKeysSecret" -}}
{{- if .Values.auth.signingKeys.keySet -}}
{{- printf "%s-signing-keys" (include "jobstream.fullname" .) -}}
{{- else -}}
{{- required "auth.signingKeys.existingSecret or auth.signingKeys.keySet is required" .Values.auth.signingKeys.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "jobstream.jwksUrl" -}}
{{- default (printf "http://%s-web-api:8000/.well-known/jwks.json" (include "jobstream.fullname" .)) .Values.auth.jwksUrl -}}
{{- end -}}

{{/*
The secret part of one service's environment, any role or job: the database URL (its
password from a Secret, never from a ConfigMap) and the object store's and OpenID
client's credentials; "pgSecret" names another Secret for the database role (the hooks'). Kubernetes expands
$(JOBSTREAM_DB_PASSWORD) from the variables defined before it.
Call with (dict "root" $ "service" "intake").
*/}}
{{- define "jobstream.env" -}}
{{- $root := .root -}}
{{- $svc := index $root.Values.services .service -}}
{{- $pg := $root.Values.postgresql -}}
{{- $pgSecret := default (include "jobstream.postgresqlSecret" $root) .pgSecret -}}
env:
{{- if $svc.databaseUrlSecret.name }}
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ $svc.databaseUrlSecret.name }}
        key: {{ required (printf "services.%s.databaseUrlSecret.key is required" .service) $svc.databaseUrlSecret.key }}
{{- else }}
  - name: JOBSTREAM_DB_USER
    valueFrom:
      secretKeyRef:
        name: {{ $pgSecret }}
        key: {{ $pg.usernameKey }}
  - name: JOBSTREAM_DB_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ $pgSecret }}
        key: {{ $pg.passwordKey }}
  - name: DATABASE_URL
    value: {{ printf "postgresql+psycopg://$(JOBSTREAM_DB_USER):$(JOBSTREAM_DB_PASSWORD)@%s:%v/%s?sslmode=%s" $pg.host $pg.port $svc.database $pg.sslmode | quote }}
{{- end }}
{{- if and (include "jobstream.usesObjects" .) (eq $root.Values.objectStore.backend "s3") $root.Values.objectStore.s3.existingSecret }}
  - name: JOBSTREAM_S3_ACCESS_KEY_ID
    valueFrom:
      secretKeyRef:
        name: {{ $root.Values.objectStore.s3.existingSecret }}
        key: {{ $root.Values.objectStore.s3.accessKeyIdKey }}
  - name: JOBSTREAM_S3_SECRET_ACCESS_KEY
    valueFrom:
      secretKeyRef:
        name: {{ $root.Values.objectStore.s3.existingSecret }}
        key: {{ $root.Values.objectStore.s3.secretAccessKeyKey }}
{{- end }}
{{- if and (not .hook) (eq .service "web") $root.Values.web.oidc.existingSecret }}
  - name: WEB_OIDC_CLIENT_SECRET
    valueFrom:
      secretKeyRef:
        name: {{ $root.Values.web.oidc.existingSecret }}
        key: {{ $root.Values.web.oidc.clientSecretKey }}
{{- end }}
{{- end -}}

{{- define "jobstream.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "jobstream.fullname" .root }}-config
  - configMapRef:
      name: {{ include "jobstream.fullname" .root }}-{{ .service }}-config
{{- end -}}

{{/* Volumes a service's pods mount: /tmp always; attachments; the front door's keys. */}}
{{- define "jobstream.volumes" -}}
{{- $root := .root -}}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ $root.Values.tmpSizeLimit }}
{{- if and (include "jobstream.usesObjects" .) (eq $root.Values.objectStore.backend "volume") }}
  - name: objects
    persistentVolumeClaim:
      claimName: {{ default (printf "%s-%s-objects" (include "jobstream.fullname" $root) .service) (index $root.Values.objectStore.volume.existingClaims .service) }}
{{- end }}
{{- if eq .service "web" }}
  - name: signing-keys
    secret:
      secretName: {{ include "jobstream.signingKeysSecret" $root }}
      defaultMode: 0400
      items:
        - key: {{ $root.Values.auth.signingKeys.key }}
          path: signing-keys.json
{{- end }}
{{- end -}}

{{- define "jobstream.volumeMounts" -}}
{{- $root := .root -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- if and (include "jobstream.usesObjects" .) (eq $root.Values.objectStore.backend "volume") }}
  - name: objects
    mountPath: {{ $root.Values.objectStore.volume.mountPath }}
{{- end }}
{{- if eq .service "web" }}
  - name: signing-keys
    mountPath: /var/lib/jobstream/keys
    readOnly: true
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by Deployments, Jobs and the CronJob. */}}
{{- define "jobstream.podCommon" -}}
# The processes never call the Kubernetes API.
automountServiceAccountToken: false
{{- /* The chart's ServiceAccount does not exist yet when the pre-install hooks run. */}}
{{- if or (not .hook) (not .root.Values.serviceAccount.create) }}
serviceAccountName: {{ include "jobstream.serviceAccountName" .root }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A checksum of the configuration, so that a changed setting rolls the pods. */}}
{{- define "jobstream.configChecksum" -}}
{{- $files := list "configmap.yaml" "secret.yaml" -}}
{{- $sum := "" -}}
{{- range $files -}}
{{- $sum = print $sum (include (print $.Template.BasePath "/" .) $) -}}
{{- end -}}
{{- sha256sum $sum -}}
{{- end -}}

{{/* Refuse secret-looking names in a service's plain env map: they belong in a Secret. */}}
{{- define "jobstream.checkPlainEnv" -}}
{{- range $name, $_ := .env -}}
{{- if regexMatch "(?i)(SECRET|PASSWORD|TOKEN|PRIVATE|ACCESS_KEY|DATABASE_URL)" $name -}}
{{- fail (printf "services.%s.env.%s looks like a secret; put it in a Secret (see deploy/helm/README.md)" $.service $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
