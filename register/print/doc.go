// Package print lays out what a fiscal cash register prints on its roll
// printer: invoices (RenderInvoice) and any report built with Doc, plus the
// Chinese financial capitals every invoice carries (Capitals, 大写金额).
//
// A Doc is a list of lines no wider than the paper. Widths are counted in
// printer columns: one for ASCII, two for Chinese and other East Asian wide,
// full-width and ambiguous characters (RuneWidth), and no line is ever cut
// inside a character. The same Doc gives a Unicode preview (Preview) for
// screens and logs, and GB18030 bytes with line feeds (Bytes) for a printer in
// its Chinese mode. 57 mm paper is 32 columns and 76 mm paper 48 (GB 18240.5
// Appendix B covers roll printers up to 82 mm).
//
// The exact 2003-2005 roll-invoice layout is not public; RenderInvoice prints
// the fields the provincial roll invoices and their descendants carry (发票代码,
// 发票号码, 机器编号, date, payee, payer, goods lines, 大写 and 小写 totals, drawer,
// 税控码) in the order documented on the function.
package print
