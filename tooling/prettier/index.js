/** One formatting style for every package. */
module.exports = { printWidth: 140, singleQuote: false, trailingComma: "all", semi: true };
