"""Kitchen order tickets on paper (issue 17, part 7): the browser prints one from the
board (the portal's print stylesheet); a network thermal printer gets one over ESC/POS
when an order is confirmed, if the canteen switches it on."""
