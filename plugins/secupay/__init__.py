"""secupay Smart Checkout: the hosted payment page of secuconnect, its return URLs and pushes."""
