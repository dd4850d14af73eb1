#!/usr/bin/env bash
# Runs the Postman collection with newman against a running stack: `make postman`.
#
# Addresses and the superadmin's credentials come from the project's .env (or the file
# SHOP_ENV_FILE names), as `make run` uses them; a setting that is not there keeps the
# environment file's default (the local stack's ports). Extra arguments go to newman.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
env_file=${SHOP_ENV_FILE-$root/.env}

setting() {  # setting NAME: its value in the env file, or nothing
  [ -n "$env_file" ] && [ -f "$env_file" ] || return 0
  "$root/.venv/bin/python" -c \
    'import sys; from dotenv import dotenv_values; print(dotenv_values(sys.argv[1]).get(sys.argv[2]) or "")' \
    "$env_file" "$1"
}

# `shop up` marks the env file while its superadmin password is known not to be the
# account's (the account existed before it); every superadmin request would then fail.
not_in_effect=$(setting SHOP_SUPERADMIN_PASSWORD_NOT_IN_EFFECT)
if [ -n "$not_in_effect" ]; then
  echo "newman.sh: the superadmin password in $env_file is not the account's: $not_in_effect" >&2
  exit 1
fi

args=()
for pair in user_url:SHOP_USER_SERVICE_URL product_url:SHOP_PRODUCT_SERVICE_URL \
            order_url:SHOP_ORDER_SERVICE_URL superadmin_email:SHOP_SUPERADMIN_EMAIL \
            superadmin_password:SHOP_SUPERADMIN_PASSWORD; do
  value=$(setting "${pair#*:}")
  [ -z "$value" ] || args+=(--env-var "${pair%%:*}=$value")
done

exec "$here/node_modules/.bin/newman" run "$here/shop.postman_collection.json" \
  --environment "$here/local.postman_environment.json" "${args[@]}" "$@"
