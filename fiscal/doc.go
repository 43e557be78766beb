// Package fiscal holds the domain types of GB 18240 and the exact byte codecs
// of the records defined by GB 18240.2 (税控IC卡规范).
package fiscal
