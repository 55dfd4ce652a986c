"""Countries (Spanish names) and cities for address forms: the catalogue, its
`location build` command and the public look-up."""
