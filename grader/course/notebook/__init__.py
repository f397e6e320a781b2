"""What runs in the student's kernel: check(), the mailbox, the SMTP endpoint, lab 02's timeline."""
