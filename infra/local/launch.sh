#!/bin/sh
# Starts a command detached from the caller: new session (setsid), stdin from /dev/null, stdout and
# stderr appended to a log file, its pid written to a pid file. The command survives its caller.
# usage: sh launch.sh <pidfile> <logfile> <command> [args...]
pidfile=$1
log=$2
shift 2
# The inner shell writes its own pid, then execs the command, which keeps that pid.
setsid sh -c 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@" \
  >>"$log" 2>&1 </dev/null &
