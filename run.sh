#!/usr/bin/env bash
# Starts the private PostgreSQL/Redis/RabbitMQ instances and the local SMTP sink, then the Gateway in the foreground.
#   ./run.sh                                   # http://127.0.0.1:5080
#   ESC_URL=http://127.0.0.1:8080 ./run.sh     # other address
# Extra args are passed to the application.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

eval "$(scripts/services.sh up)"
# The web client (web/ -> web/dist), served by the Gateway at /.
scripts/web.sh setup
scripts/web.sh build
export ConnectionStrings__Postgres ConnectionStrings__Redis ConnectionStrings__RabbitMq Mail__Smtp__Host Mail__Smtp__Port
# Shared files: the embedded object store keeps them beside the services' data (docs/files.md).
export Files__Local__Root="${Files__Local__Root:-$ROOT/.data/files}"
# Links in mails point at this server.
export Mail__PublicUrl="${Mail__PublicUrl:-${ESC_URL:-http://127.0.0.1:5080}}"

# A local run on the built-in esc/esc credentials of scripts/services.sh: the Development environment allows them
# (any other environment refuses to start with them, or with an unprotected key ring; see docs/operations.md).
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"

URL="${ESC_URL:-http://127.0.0.1:5080}"
echo "EventSourcedChat: starting Gateway on $URL (open it in a browser for the web client)"
# Mail the application sends (password resets, ...) goes to the local SMTP sink of scripts/services.sh.
echo "EventSourcedChat: sent mail is listed in $ROOT/.data/smtp/mail.log, each mail in $ROOT/.data/smtp/mail/*.eml (open with any mail program)"
exec dotnet run -c Release --project Gateway -- --urls "$URL" "$@"
