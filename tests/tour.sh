#!/usr/bin/env bash
# The README's grpcurl tour, run for real: starts the steward binary on a free
# port with a fresh var dir, then walks who-am-I, create a user, the temporary
# password from var/mail, first login, password change, own profile update and
# the admin's user list, suspension and deletion, a bulk import, an access
# request, a group, and a report with its repair — failing on the first step
# that does not behave as
# the README says. `make test` runs it; it needs grpcurl (make tools/grpcurl).
set -euo pipefail

BIN=${STEWARD_BIN:-target/debug/steward}
command -v grpcurl >/dev/null || { echo "tour: grpcurl not found (make tools/grpcurl)"; exit 1; }
VAR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
S=127.0.0.1:$PORT
"$BIN" --var-dir "$VAR" --listen "$S" --mail-poll-ms 100 --log warn >"$VAR/stdout" 2>"$VAR/stderr" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$VAR"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$VAR/stdout" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$VAR/stdout" || { cat "$VAR/stderr"; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
step() { echo "tour: $*"; }
ADMIN="authorization: Bearer $(cat "$VAR/bootstrap-admin.key")"

step "who am I (the bootstrap admin's API key)"
[ "$(grpcurl -plaintext -H "$ADMIN" "$S" steward.v1.AuthService/WhoAmI | json '["activeRole"]')" = admin ]

step "create a user"
grpcurl -plaintext -H "$ADMIN" -d '{"username":"ada","email":"ada@example.com","full_name":"Ada Lovelace"}' \
  "$S" steward.v1.UserService/CreateUser >/dev/null

step "find the temporary password in var/mail"
for _ in $(seq 50); do grep -ls "ada@example.com" "$VAR"/mail/*.eml >/dev/null 2>&1 && break; sleep 0.1; done
TEMP=$(grep -h "Temporary password:" $(grep -l "ada@example.com" "$VAR"/mail/*.eml) | awk '{print $3}' | tr -d '\r')
[ ${#TEMP} -ge 20 ]

step "log in as that user: the session must change its password first"
LOGIN=$(grpcurl -plaintext -d "{\"username\":\"ada\",\"password\":\"$TEMP\"}" "$S" steward.v1.AuthService/Login)
[ "$(echo "$LOGIN" | json '["passwordChangeRequired"]')" = True ]
ADA="authorization: Bearer $(echo "$LOGIN" | json '["sessionToken"]')"
if out=$(grpcurl -plaintext -H "$ADA" "$S" steward.v1.UserService/GetUser 2>&1); then exit 1; fi
echo "$out" | grep -q FailedPrecondition

step "change the password"
grpcurl -plaintext -H "$ADA" -d "{\"current_password\":\"$TEMP\",\"new_password\":\"analytical engine 1843\"}" \
  "$S" steward.v1.AuthService/ChangePassword >/dev/null

step "update the own profile"
UPDATED=$(grpcurl -plaintext -H "$ADA" \
  -d '{"user":{"position":"Mathematician","location":"London"},"update_mask":{"paths":["position","location"]}}' \
  "$S" steward.v1.UserService/UpdateUser)
[ "$(echo "$UPDATED" | json '["user"]["position"]')" = Mathematician ]

step "list users as admin"
[ "$(grpcurl -plaintext -H "$ADMIN" -d '{"page_size":10}' "$S" steward.v1.UserService/ListUsers | json '["users"].__len__()')" = 2 ]

step "the audit trail has it all"
grpcurl -plaintext -H "$ADMIN" -d '{"target":"user/'"$(echo "$UPDATED" | json '["user"]["userId"]')"'"}' \
  "$S" steward.v1.AuditService/ListAuditEvents | grep -q '"action": "user.update"'

step "suspend ada: her session stops at once"
grpcurl -plaintext -H "$ADMIN" -d '{"user":{"username":"ada"},"reason":"left the team"}' \
  "$S" steward.v1.UserService/SuspendUser >/dev/null
if out=$(grpcurl -plaintext -H "$ADA" "$S" steward.v1.AuthService/WhoAmI 2>&1); then exit 1; fi
echo "$out" | grep -q Unauthenticated

step "plan ada's deletion, handing over to grace, and carry it out"
grpcurl -plaintext -H "$ADMIN" -d '{"username":"grace","email":"grace@example.com","full_name":"Grace Hopper"}' \
  "$S" steward.v1.UserService/CreateUser >/dev/null
ETAG=$(grpcurl -plaintext -H "$ADMIN" -d '{"user":{"username":"ada"},"new_owner":{"username":"grace"}}' \
  "$S" steward.v1.UserService/PlanUserDeletion | json '["plan"]["etag"]')
DELETED=$(grpcurl -plaintext -H "$ADMIN" \
  -d "{\"user\":{\"username\":\"ada\"},\"new_owner\":{\"username\":\"grace\"},\"plan_etag\":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$ETAG")}" \
  "$S" steward.v1.UserService/DeleteUser)
[ "$(echo "$DELETED" | json '["user"]["status"]')" = USER_STATUS_DELETED ]

step "bulk import: a presigned PUT of a CSV, start, watch it end"
JOB=$(grpcurl -plaintext -H "$ADMIN" "$S" steward.v1.ImportService/CreateImportJob)
URL=$(echo "$JOB" | json '["uploadUrl"]')
ID=$(echo "$JOB" | json '["job"]["jobId"]')
printf 'username,email,name\nlinus,linus@example.com,"Torvalds, Linus"\n' | curl -sS -f -T - "$URL" >/dev/null
# The URL works once.
if printf 'x' | curl -sS -f -T - "$URL" 2>/dev/null; then exit 1; fi
grpcurl -plaintext -H "$ADMIN" -d "{\"job_id\":\"$ID\"}" "$S" steward.v1.ImportService/StartImportJob >/dev/null
WATCHED=$(timeout 30 grpcurl -plaintext -H "$ADMIN" -d "{\"job_id\":\"$ID\"}" "$S" steward.v1.ImportService/WatchImportJob)
echo "$WATCHED" | grep -q '"state": "IMPORT_JOB_STATE_SUCCEEDED"'
echo "$WATCHED" | grep -q '"rowsCreated": "1"'
grpcurl -plaintext -H "$ADMIN" -d '{"username":"linus"}' "$S" steward.v1.UserService/GetUser \
  | grep -q '"fullName": "Torvalds, Linus"'

step "access request: a service asks for the admin's dataset, the admin approves it for a day"
DS=$(grpcurl -plaintext -H "$ADMIN" -d "{\"resource\":{\"kind\":\"RESOURCE_KIND_DATASET\",\"display_name\":\"Orders\",\"owner_id\":\"$(grpcurl -plaintext -H "$ADMIN" "$S" steward.v1.AuthService/WhoAmI | json '["user"]["userId"]')\"}}" \
  "$S" steward.v1.ResourceService/RegisterResource | json '["resource"]["resourceId"]')
ETL="Authorization: Bearer $(grpcurl -plaintext -H "$ADMIN" \
  -d '{"username":"etl","email":"etl@example.com","full_name":"ETL service"}' \
  "$S" steward.v1.UserService/CreateServiceAccount | json '["apiKeySecret"]')"
ASKED=$(grpcurl -plaintext -H "$ETL" -d "{\"data_source_id\":\"$DS\",\"justification\":\"nightly load\",\"duration\":\"604800s\"}" \
  "$S" steward.v1.AccessService/CreateAccessRequest)
[ "$(grpcurl -plaintext -H "$ADMIN" -d '{"view":"ACCESS_REQUEST_VIEW_AWAITING_MY_DECISION"}' "$S" \
  steward.v1.AccessService/ListAccessRequests | json '["accessRequests"].__len__()')" = 1 ]
grpcurl -plaintext -H "$ADMIN" \
  -d "{\"access_request_id\":\"$(echo "$ASKED" | json '["accessRequest"]["accessRequestId"]')\",\"duration\":\"86400s\",\"etag\":$(echo "$ASKED" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["accessRequest"]["etag"]))')}" \
  "$S" steward.v1.AccessService/ApproveAccessRequest | grep -q '"state": "ACCESS_REQUEST_STATE_APPROVED"'
grpcurl -plaintext -H "$ETL" "$S" steward.v1.ProjectService/ListDataSources | grep -q "\"resourceId\": \"$DS\""

step "groups: linus came with a personal group; he joins the admin's group, linked read to the dataset"
LINUS=$(grpcurl -plaintext -H "$ADMIN" -d '{"username":"linus"}' "$S" steward.v1.UserService/GetUser | json '["user"]["userId"]')
grpcurl -plaintext -H "$ADMIN" -d '{"page_size":1000}' "$S" steward.v1.GroupService/ListGroups \
  | grep -q "\"personalUserId\": \"$LINUS\""
G=$(grpcurl -plaintext -H "$ADMIN" -d '{"name":"Readers"}' "$S" steward.v1.GroupService/CreateGroup | json '["group"]["groupId"]')
grpcurl -plaintext -H "$ADMIN" -d "{\"group_id\":\"$G\",\"user_id\":\"$LINUS\"}" \
  "$S" steward.v1.GroupService/AddGroupMember >/dev/null
grpcurl -plaintext -H "$ADMIN" -d "{\"group_id\":\"$G\",\"resource_id\":\"$DS\",\"access\":\"ACCESS_LEVEL_READ\"}" \
  "$S" steward.v1.GroupService/LinkGroupResource | grep -q '"access": "ACCESS_LEVEL_READ"'

step "reports and repair: linus's report, a dry-run repair, then a global report job that ends"
grpcurl -plaintext -H "$ADMIN" -d "{\"user_id\":\"$LINUS\"}" "$S" steward.v1.MaintenanceService/GenerateUserReport \
  | grep -q "\"userId\": \"$LINUS\""
grpcurl -plaintext -H "$ADMIN" -d "{\"user_id\":\"$LINUS\",\"dry_run\":true}" "$S" steward.v1.MaintenanceService/RepairUser \
  | grep -q '"dryRun": true'
JOB=$(grpcurl -plaintext -H "$ADMIN" "$S" steward.v1.MaintenanceService/GenerateGlobalReport | json '["job"]["jobId"]')
for _ in $(seq 100); do
  STATE=$(grpcurl -plaintext -H "$ADMIN" -d "{\"job_id\":\"$JOB\"}" "$S" steward.v1.MaintenanceService/GetMaintenanceJob \
    | json '["job"]["state"]')
  [ "$STATE" = MAINTENANCE_JOB_STATE_SUCCEEDED ] && break
  sleep 0.2
done
[ "$STATE" = MAINTENANCE_JOB_STATE_SUCCEEDED ]

echo "tour: every step behaved as the README says"
