# fish completion for recctl
set -l commands start toggle stop pause resume cancel wait monitor duration status devices repair
complete -c recctl -f
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a start -d 'start recording; prints the absolute path'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a toggle -d 'start when idle, stop when recording'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a stop -d 'stop; prints the path and the duration'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a pause -d 'pause the recording'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a resume -d 'resume a paused recording'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a cancel -d 'stop and delete the file'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a wait -d 'wait until the recording stops'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a monitor -d 'live input meter'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a duration -d 'seconds recorded so far'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a status -d 'what recd is doing'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a devices -d 'the input devices'
complete -c recctl -n "not __fish_seen_subcommand_from $commands" -a repair -d 'fix WAV headers'
set -l rec "__fish_seen_subcommand_from start toggle"
complete -c recctl -n $rec -F
complete -c recctl -n $rec -s d -l device -x -d 'input device (repeat for several)' -a '@input @output (recctl devices --json 2>/dev/null | string match -rg \'"id": "(.*)"\')'
complete -c recctl -n $rec -l layout -x -d 'with several inputs: side by side, a file each or summed' -a 'channels files mix'
complete -c recctl -n $rec -s r -l rate -x -a '44100 48000 96000' -d 'sample rate in Hz'
complete -c recctl -n $rec -s c -l channels -x -d 'number of channels'
complete -c recctl -n $rec -s f -l format -x -a 's16 s24 s32 f32' -d 'sample format'
complete -c recctl -n $rec -s m -l max-duration -x -d 'stop by itself after this many seconds'
complete -c recctl -n $rec -s s -l stop-on-silence -x -d 'stop after this much silence'
complete -c recctl -n $rec -l silence-threshold -x -d 'what counts as silence, dBFS'
complete -c recctl -n $rec -l start-on-sound -d 'begin writing at the first sound'
complete -c recctl -n $rec -l split-every -x -d 'a new file every this many seconds'
complete -c recctl -n $rec -s p -l pre-roll -x -d 'begin with audio from before the command'
complete -c recctl -n $rec -l reconnect -x -d 'wait this long for a lost device'
complete -c recctl -n $rec -l overwrite -d 'replace an existing file'
complete -c recctl -n "__fish_seen_subcommand_from wait" -s t -l timeout -x -d 'give up after this many seconds'
complete -c recctl -n "__fish_seen_subcommand_from monitor" -s n -l count -x -d 'end after this many updates'
complete -c recctl -n "__fish_seen_subcommand_from status devices" -s j -l json -d 'JSON output'
complete -c recctl -n "__fish_seen_subcommand_from repair" -F
