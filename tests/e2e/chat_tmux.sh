#!/usr/bin/env bash
# chat_tmux.sh - meson test "chat-e2e": deepc-chat driven the way a person
# uses it, in a real terminal (tmux), plus the same program over pipes.
#
#     chat_tmux.sh DEEPC_CHAT DEEPC_MAKE_MODEL WORK_DIR
#
# The model is a tiny random-weight DeepSeek-V3-shaped file from
# deepc-make-model with the fixtures' toy tokenizer and the deepseek3 chat
# template. In a detached tmux session of fixed size (its own server socket,
# no user config) deepc-chat gets: two user turns, /regen, /stats, a long
# reply interrupted with Ctrl+C, /stats again, /exit. After each step the
# captured screen (scrollback included) must show the reply's timing line
# and the prompt marker back on the last line; the second turn must reuse
# the KV cache; /regen must produce a new reply without adding a message;
# Ctrl+C must stop the reply ("[stopped]", far fewer tokens than asked) and
# keep the program running; /exit must end it with status 0; no crash text
# may appear anywhere. Piped runs check: no ANSI escape in the output,
# -p answers once, /save + /reset + /load restores the chat, a damaged state
# file is refused with a checksum error, a full context drops the oldest
# turn, a missing demo model exits 1 with advice.
#
# Exit 77 (skipped) without tmux. Nothing here asserts a timing.
set -u
chat=$1 make_model=$2 work=$3
command -v tmux >/dev/null 2>&1 || { echo "skip: tmux is not installed"; exit 77; }
mkdir -p "$work" || exit 1
model=$work/toy-chat.gguf
export LANG=C.UTF-8 LC_ALL=C.UTF-8
export HOME=$work XDG_CACHE_HOME=$work/cache   # no user files are read or written
unset NO_COLOR

"$make_model" --preset tiny-v3 --ctx 32768 --chat-template deepseek3 --seed 5 -o "$model" \
    >/dev/null || { echo "FAIL: deepc-make-model"; exit 1; }

sock=deepc-chat-e2e-$$
T() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'T kill-server >/dev/null 2>&1' EXIT

screen() { T capture-pane -p -J -S - -t chat 2>/dev/null | sed 's/[[:space:]]*$//'; }
fail() {
    echo "FAIL: $*"
    echo "---------------- screen ----------------"
    screen | tail -n 60
    exit 1
}
count() { screen | grep -c -- "$1"; }
last_line() { screen | sed '/^$/d' | tail -n 1; }
send() { T send-keys -t chat -l -- "$1"; T send-keys -t chat Enter; }

# Wait (up to 120 s) until the screen shows N timing lines and the prompt.
wait_prompt() {
    local n=$1 i
    for i in $(seq 1 1200); do
        if [ "$(count '^\[prompt: ')" -ge "$n" ] && [ "$(last_line)" = ">" ]; then return 0; fi
        sleep 0.1
    done
    fail "timed out waiting for the prompt after reply $n"
}

wait_text() {
    local text=$1 i
    for i in $(seq 1 1200); do
        screen | grep -qF -- "$text" && return 0
        sleep 0.1
    done
    fail "timed out waiting for '$text'"
}

# ---- the terminal session ------------------------------------------------------------
T new-session -d -s chat -x 120 -y 40 \
    "'$chat' -m '$model' --seed 1 -t 1 -n 40 -c 32768 --ignore-eos; echo \"[exited \$?]\"; sleep 600" \
    || fail "tmux did not start"
T set-option -t chat history-limit 100000 >/dev/null

wait_prompt 0
screen | grep -q "random weights" || fail "no random-weights warning in the banner"

send "hello there"
wait_prompt 1
screen | grep -q '^\[prompt: .*reply: 40 tokens' || fail "first reply: no timing line with 40 tokens"

send "tell me more"
wait_prompt 2
line=$(screen | grep '^\[prompt: ' | sed -n 2p)
echo "$line" | grep -Eq '\(([0-9]+) new, [1-9][0-9]* cached\)' || fail "second turn reused no KV cache: $line"

send "/regen"
wait_prompt 3
send "/stats"
wait_text "chat       4 messages"

send "/set max-tokens 1000000"
wait_text "max-tokens 1000000"
send "write a very long answer"
# let the reply stream a while, then interrupt it
for i in $(seq 1 100); do
    [ "$(screen | grep -A3 'write a very long answer' | sed -n 2p)" != "" ] && break
    sleep 0.1
done
sleep 0.5
T send-keys -t chat C-c
wait_prompt 4
screen | grep -q '^\[stopped\]' || fail "Ctrl+C did not stop the reply"
n_gen=$(screen | grep '^\[prompt: ' | sed -n 4p | sed -E 's/.*reply: ([0-9]+) tokens.*/\1/')
[ -n "$n_gen" ] && [ "$n_gen" -lt 1000000 ] || fail "the interrupted reply did not stop early ($n_gen tokens)"

send "/stats"
wait_text "chat       6 messages"       # the partial reply was kept

send "/exit"
wait_text "[exited 0]"
if screen | grep -Eqi 'segmentation fault|abort|core dumped|sanitizer|deepc-chat: .*(INTERNAL|error)'; then
    fail "crash or error text on the screen"
fi
screen >"$work/screen.txt"          # kept for reading after the run
T kill-server >/dev/null 2>&1
echo "ok: tmux session (2 turns, /regen, Ctrl+C after $n_gen tokens, /exit)"

# ---- pipes ---------------------------------------------------------------------------------
out=$work/pipe.out err=$work/pipe.err
printf 'hi\n/exit\n' | "$chat" -m "$model" --seed 1 -t 1 -n 20 >"$out" 2>"$err"
rc=$?
[ $rc = 0 ] || { cat "$err"; echo "FAIL: piped chat exited $rc"; exit 1; }
if grep -q $'\033' "$out" "$err"; then echo "FAIL: ANSI escapes in piped output"; exit 1; fi
[ -s "$out" ] || { echo "FAIL: no reply on stdout"; exit 1; }
grep -q '^\[prompt: ' "$err" || { echo "FAIL: no timing line on stderr"; exit 1; }
echo "ok: piped, plain text"

"$chat" -m "$model" --seed 1 -t 1 -n 8 -p "one question" >"$out" 2>"$err" </dev/null
rc=$?
[ $rc = 0 ] || { cat "$err"; echo "FAIL: -p exited $rc"; exit 1; }
[ "$(grep -c '^\[prompt: ' "$err")" = 1 ] || { echo "FAIL: -p did not answer exactly once"; exit 1; }
echo "ok: -p answers once"

state=$work/saved.dcss
printf 'hello\n/save %s\n/reset\n/load %s\n/stats\n/exit\n' "$state" "$state" |
    "$chat" -m "$model" --seed 1 -t 1 -n 10 >"$out" 2>"$err" || { echo "FAIL: /save /load run"; exit 1; }
grep -q "^loaded [0-9]* positions and 2 messages" "$out" || { cat "$out" "$err"; echo "FAIL: /load"; exit 1; }
grep -q "chat       2 messages" "$out" || { echo "FAIL: /load did not restore the messages"; exit 1; }
size=$(stat -c %s "$state")
printf '\x55' | dd of="$state" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
printf '/load %s\n/exit\n' "$state" | "$chat" -m "$model" -t 1 >"$out" 2>"$err" || { echo "FAIL: damaged /load run"; exit 1; }
grep -q "checksum mismatch" "$err" || { cat "$err"; echo "FAIL: a damaged state was not refused"; exit 1; }
echo "ok: /save, /load, damaged state refused"

printf 'first message\nsecond message\nthird message\n/exit\n' |
    "$chat" -m "$model" --seed 1 -t 1 -n 40 -c 100 --ignore-eos >"$out" 2>"$err"
rc=$?
[ $rc = 0 ] || { cat "$err"; echo "FAIL: small context run exited $rc"; exit 1; }
grep -q "context full" "$err" && grep -q "dropped the oldest" "$err" \
    || { cat "$err"; echo "FAIL: a full context did not drop the oldest turn"; exit 1; }
echo "ok: full context drops the oldest turn"

DEEPC_DEMO_MODEL=$work/none.gguf "$chat" </dev/null >"$out" 2>"$err"
rc=$?
[ $rc = 1 ] && grep -q "scripts/demo" "$err" || { cat "$err"; echo "FAIL: missing demo model (rc $rc)"; exit 1; }
echo "ok: missing demo model explained"
exit 0
