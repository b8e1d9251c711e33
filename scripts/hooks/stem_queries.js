/* Appended to Material's search worker by scripts/hooks/per_language.py.
 *
 * Material adds a trailing wildcard to every query term ("term*") so results appear while typing, and
 * lunr never runs a wildcard term through the language pipeline — so with the stemmer on, a word form
 * that does not occur literally in the text ("уязвимостям") finds nothing. Each plain term is therefore
 * also searched once without the wildcard ("term^1"), which lunr stems like the indexed text.
 */
(function () {
  var search = lunr.Index.prototype.search;
  lunr.Index.prototype.search = function (query) {
    var stemmed = query.split(/\s+/).filter(function (term) {
      return /^[^+\-:*^~][^:]*[^*]\*$/.test(term);
    }).map(function (term) {
      return term.slice(0, -1) + "^1";
    });
    return search.call(this, [query].concat(stemmed).join(" "));
  };
})();
