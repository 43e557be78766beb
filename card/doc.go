// Package card is the ISO/IEC 7816-4 layer of GB 18240.2 and the command sets
// of the three cards the standard knows: the fiscal card (税控卡), the user card
// (用户卡) and the check card (稽查卡).
package card
