
#compdef smallest

_smallest_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _SMALLEST_COMPLETE=complete_zsh smallest)
}

compdef _smallest_completion smallest

