#!/bin/sh
# Entry point of the snipcheck redis stand-in, modelled on the official image's.
set -e

# first arg is `-f` or `--some-option`, or a .conf file
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ]; then
	# the official image compiles protected mode off; Debian's binary has it on, so switch it
	# off unless the command line or the given config file sets it
	shift
	conf=
	if [ -n "${1:-}" ] && [ "${1#-}" = "$1" ]; then
		conf=$1
		shift
	fi
	case " $* " in
		*" --protected-mode "*) set -- "$@" ;;
		*)
			if [ -z "$conf" ] || ! grep -qE '^[[:space:]]*protected-mode' "$conf" 2>/dev/null; then
				set -- --protected-mode no "$@"
			fi
			;;
	esac
	if [ -n "$conf" ]; then
		set -- "$conf" "$@"
	fi
	set -- redis-server "$@"

	if [ "$(id -u)" = '0' ]; then
		find . \! -user redis -exec chown redis '{}' +
		exec gosu redis "$@"
	fi
fi

exec "$@"
