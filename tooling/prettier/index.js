/** One formatting style for every package. */
module.exports = { printWidth: 100, singleQuote: true, trailingComma: "all", semi: true };
