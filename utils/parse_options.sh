# Kaldi-style option parsing for recipe scripts; source it after declaring the variables.
#
#   stage=0; nj=4; train_config=conf/train.yaml
#   . utils/parse_options.sh
#
# `--foo-bar VALUE` sets the already-declared variable foo_bar (dashes become underscores);
# `--foo-bar=VALUE` works too. An option whose variable was never declared is an error, so a
# typo fails loudly instead of being ignored. `--config FILE` sources FILE first (lines such as
# `nj=8`), and options after it override it. Parsing stops at the first non-option argument or
# `--`; the rest stays in "$@". A declared boolean (true/false) accepts only true or false.
# A declared integer accepts only integers, or a space-separated list of them if the script
# names the variable in list_options (list_options="seeds": `--seeds "1 2"` with seeds=1).
# `--help`/`-h` prints $help_message (if the script set one) and exits.

_po_name=$(basename "$0")
while true; do
  [ -z "${1:-}" ] && break
  case "$1" in
    --) shift; break ;;
    --help|-h)
      if [ -n "${help_message:-}" ]; then echo -e "$help_message"; else echo "$_po_name: no help message"; fi
      exit 0 ;;
    --config)
      [ $# -ge 2 ] || { echo "$_po_name: --config needs a file" >&2; exit 1; }
      [ -f "$2" ] || { echo "$_po_name: config file $2 does not exist" >&2; exit 1; }
      . "$2" || { echo "$_po_name: cannot source config $2" >&2; exit 1; }
      shift 2 ;;
    --*=*)
      _po_opt="${1%%=*}"; _po_val="${1#*=}"; shift
      set -- "$_po_opt" "$_po_val" "$@" ;;
    --*)
      _po_var=$(echo "${1#--}" | sed 's/-/_/g')
      if ! declare -p "$_po_var" >/dev/null 2>&1; then
        echo "$_po_name: invalid option $1 (no variable $_po_var is declared)" >&2; exit 1
      fi
      [ $# -ge 2 ] || { echo "$_po_name: option $1 needs a value" >&2; exit 1; }
      _po_old="${!_po_var}"
      if { [ "$_po_old" = true ] || [ "$_po_old" = false ]; } && [ "$2" != true ] && [ "$2" != false ]; then
        echo "$_po_name: option $1 takes true or false, got '$2'" >&2; exit 1
      fi
      # A declared integer (stage=0, nj=4) takes only integers: `--stage abc` or
      # `--stage --stop-stage 3` would otherwise run nothing and still end in "Done".
      if [[ "$_po_old" =~ ^-?[0-9]+$ ]]; then
        if [[ " ${list_options:-} " == *" $_po_var "* ]]; then
          [[ "$2" =~ ^\ *-?[0-9]+(\ +-?[0-9]+)*\ *$ ]] || {
            echo "$_po_name: option $1 takes integers separated by spaces, got '$2'" >&2; exit 1; }
        elif ! [[ "$2" =~ ^-?[0-9]+$ ]]; then
          echo "$_po_name: option $1 takes an integer, got '$2'" >&2; exit 1
        fi
      fi
      printf -v "$_po_var" '%s' "$2"
      shift 2 ;;
    *) break ;;
  esac
done
unset _po_name _po_opt _po_val _po_var _po_old
true  # a sourced file's status is its last command's
