#!/usr/bin/env bash
# Enroll every user listed in users.csv (a user_id column), 32 at a time, at most 100 per second.
# Credentials come from the environment only, never from the command line.
set -euo pipefail
: "${STYTCH_PROJECT_ID:?}" "${STYTCH_SECRET:?}"

stytch-totp bulk-enroll users.csv --output results.jsonl --concurrency 32 --max-rate 100

# After an interruption (Ctrl-C, a crash), the same command with --resume carries on,
# skipping the users results.jsonl records as enrolled.
stytch-totp bulk-enroll users.csv --output results.jsonl --concurrency 32 --max-rate 100 --resume
