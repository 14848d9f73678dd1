# bash completion for recctl
_recctl()
{
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local commands="start toggle stop pause resume cancel wait monitor duration status devices repair"
    local start_opts="-d --device -r --rate -c --channels -f --format -m --max-duration -s --stop-on-silence
        --silence-threshold --start-on-sound --split-every --split-on-silence -p --pre-roll --reconnect --overwrite --layout -j --json -h --help"
    cmd=${COMP_WORDS[1]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$commands -h --help -V --version" -- "$cur"))
        return
    fi
    case $prev in
        -f|--format)
            if [ "$cmd" = status ]; then
                COMPREPLY=($(compgen -W "text json waybar" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "s16 s24 s32 f32" -- "$cur"))
            fi
            return ;;
        -d|--device)
            local IFS=$'\n'
            COMPREPLY=($(compgen -W "@input
@output
$(recctl devices --json 2>/dev/null | sed -n 's/.*"id": "\(.*\)".*/\1/p')" -- "$cur"))
            return ;;
        --layout) COMPREPLY=($(compgen -W "channels files mix" -- "$cur")); return ;;
        -r|--rate) COMPREPLY=($(compgen -W "44100 48000 96000" -- "$cur")); return ;;
        -c|--channels|-m|--max-duration|-s|--stop-on-silence|--silence-threshold|--split-every|--split-on-silence|-p|--pre-roll|--reconnect|-t|--timeout|-n|--count)
            return ;;
    esac
    case $cmd in
        start|toggle)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$start_opts" -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi ;;
        wait) COMPREPLY=($(compgen -W "-t --timeout -j --json" -- "$cur")) ;;
        stop) COMPREPLY=($(compgen -W "-j --json" -- "$cur")) ;;
        monitor) COMPREPLY=($(compgen -W "-n --count" -- "$cur")) ;;
        status) COMPREPLY=($(compgen -W "-j --json -F --follow --format" -- "$cur")) ;;
        devices) COMPREPLY=($(compgen -W "-j --json" -- "$cur")) ;;
        repair) COMPREPLY=($(compgen -f -X '!*.wav' -- "$cur")) ;;
    esac
}
complete -o filenames -F _recctl recctl
