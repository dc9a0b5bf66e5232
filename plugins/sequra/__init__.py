"""SeQura (buy now, pay later) through the Order API: solicit, identification form, IPN, confirm."""
