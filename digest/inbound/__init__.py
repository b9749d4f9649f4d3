"""Mail and webhook events that come back: bounces, complaints, mailed unsubscribes.

``classify`` (mail) and ``providers`` (webhook bodies) turn what arrives into ``Report``s, purely;
``signatures`` checks webhook signatures; ``process.Inbound`` acts on a report; ``listener``
(SMTP/LMTP) and ``imap`` (a polled mailbox) feed it mail; ``rates`` are the operator's figures.
"""
